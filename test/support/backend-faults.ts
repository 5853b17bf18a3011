/**
 * Faults between a service and its backend, for the datastore chaos tests: the product's fault
 * proxy in front of a Redis or Postgres URL, the three faults of a run in a seeded order, and a
 * wait for a `/readyz` to answer what it should.
 */
import { type FaultProxy, startFaultProxy } from '../../src/platform/fault-proxy.js';
import { waitFor } from './processes.js';
import type { SeededRandom } from './random.js';

const defaultPorts: Record<string, number> = { 'redis:': 6379, 'postgres:': 5432 };

/** A proxy that relays to the server of `url` until told otherwise; `proxy.url(url)` reaches it. */
export function proxyBefore(url: string): Promise<FaultProxy> {
  const target = new URL(url);
  const port = Number(target.port || defaultPorts[target.protocol]);
  return startFaultProxy({ target: { host: target.hostname, port } });
}

/** Latency (200 to 500 ms), reset connections and a blackhole, in an order the seed picks. */
export function faultsInSeededOrder(random: SeededRandom) {
  const faults = [
    { kind: 'latency', ms: 200 + random.below(300) },
    { kind: 'reset' },
    { kind: 'blackhole' },
  ] as const;
  return faults.toSorted(() => random.next() - 0.5);
}

/** Waits until `readyzUrl` answers `status`; its checks, for a test to look at. */
export function readyzIs(readyzUrl: string, status: number, what: string) {
  return waitFor(
    async () => {
      const response = await fetch(readyzUrl, { signal: AbortSignal.timeout(3_000) });
      const body = (await response.json()) as { checks: Record<string, string> };
      return response.status === status && body;
    },
    { timeoutMs: 20_000, intervalMs: 100, message: what },
  );
}
