/**
 * `agora up --distributed --faults`: a fault proxy (src/platform/fault-proxy.ts) between each
 * service and each backend it needs, so the console can cut one service off from Redis or
 * Postgres, partition it, or slow it down, for a while, while every other service is untouched.
 */
import type { FaultKind, FaultRequest } from '../console/processes.js';
import type { Env } from '../platform/config.js';
import { UsageError } from '../platform/errors.js';
import { type Fault, type FaultProxy, startFaultProxy } from '../platform/fault-proxy.js';
import type { Backend, ServiceDefinition } from '../platform/service.js';

const variableOf: Record<Backend, 'REDIS_URL' | 'DATABASE_URL'> = {
  broker: 'REDIS_URL',
  sql: 'DATABASE_URL',
};

export class BackendFaults {
  readonly #proxies = new Map<string, FaultProxy>();
  readonly #env = new Map<string, Env>();

  /** One proxy per service and backend; `env` holds the real backend URLs. */
  static async start(definitions: readonly ServiceDefinition[], env: Env): Promise<BackendFaults> {
    const faults = new BackendFaults();
    for (const definition of definitions) {
      const own: Record<string, string> = {};
      for (const need of definition.needs) {
        const real = env[variableOf[need]];
        if (real === undefined) continue;
        const url = new URL(real);
        const proxy = await startFaultProxy({
          target: { host: url.hostname, port: Number(url.port || defaultPort(need)) },
        });
        faults.#proxies.set(`${definition.name}/${need}`, proxy);
        own[variableOf[need]] = proxy.url(real);
      }
      faults.#env.set(definition.name, own);
    }
    return faults;
  }

  /** The backend URLs a service's processes get: through its own proxies. */
  envOf(definition: ServiceDefinition): Env {
    return this.#env.get(definition.name) ?? {};
  }

  /** Puts the fault in force for `seconds`; resolves at once, `onEnd` when it is lifted. */
  apply(request: FaultRequest, onEnd: () => void): void {
    const proxy = this.#proxies.get(`${request.service}/${request.backend}`);
    if (proxy === undefined) {
      throw new UsageError(
        `no service named "${request.service}" uses the ${request.backend} here`,
      );
    }
    void proxy
      .faultFor(request.seconds * 1000, faultOf(request.kind, request.latencyMs))
      .then(onEnd);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#proxies.values()].map((proxy) => proxy.close()));
  }
}

function faultOf(kind: FaultKind, latencyMs = 200): Fault {
  if (kind === 'cut') return { kind: 'reset' };
  if (kind === 'partition') return { kind: 'blackhole' };
  return { kind: 'latency', ms: latencyMs };
}

function defaultPort(need: Backend): number {
  return need === 'broker' ? 6379 : 5432;
}
