/**
 * The product's fault proxy in front of Postgres for outage tests: it starts refusing
 * (a database that is not there yet), `resume` lets it through, `cut` resets the open
 * connections and refuses new ones, as a database that went away. `proxy` has every fault.
 */
import { startFaultProxy } from '../../src/platform/fault-proxy.js';

/** A relay to the Postgres at `databaseUrl` that starts refusing, as an outage. */
export async function openPgProxy(databaseUrl: string) {
  const target = new URL(databaseUrl);
  const proxy = await startFaultProxy({
    target: { host: target.hostname, port: Number(target.port || 5432) },
    fault: { kind: 'reset' },
  });
  return {
    url: proxy.url(databaseUrl),
    proxy,
    resume: () => {
      proxy.setFault({ kind: 'pass' });
    },
    cut: () => {
      proxy.setFault({ kind: 'reset' });
    },
    close: () => proxy.close(),
  };
}

export type PgProxy = Awaited<ReturnType<typeof openPgProxy>>;
