/**
 * `agora status`: asks every registered service's `/readyz` on its admin port
 * (AGORA_<SERVICE>_ADMIN_URL, or the local admin port), or at AGORA_<SERVICE>_URL when only that
 * is given, and prints up/waiting/down, latency, version and what a waiting one waits for.
 */
import type { Env } from '../platform/config.js';
import { envNameOf } from '../platform/platform-settings.js';
import { adminPortOf, portForUp } from '../platform/ports.js';
import type { ServiceDefinition } from '../platform/service.js';
import { formatTable } from '../platform/table.js';

export interface ServiceStatus {
  service: string;
  url: string;
  state: 'ready' | 'waiting' | 'down';
  latencyMs?: number;
  version?: string;
  detail: string;
}

const timeoutMs = 2_000;

/**
 * Where the service answers HTTP `/readyz`: AGORA_<SERVICE>_ADMIN_URL, else its admin port (the
 * full report: what each check waits for) on the port `agora up` gives it; a service without one
 * (a stream consumer) at AGORA_<SERVICE>_URL or its port. An HTTP service's AGORA_<SERVICE>_URL,
 * without an admin URL, is probed as given: its public /readyz says only "waiting".
 */
export function serviceUrl(definition: ServiceDefinition, env: Env): string {
  const name = envNameOf(definition.name);
  const adminUrl = env[`AGORA_${name}_ADMIN_URL`];
  if (adminUrl !== undefined) return adminUrl;
  const ownUrl = env[`AGORA_${name}_URL`];
  const speaksHttp = ownUrl === undefined || /^https?:/.test(ownUrl);
  const port = portForUp(definition, env);
  const adminPort = adminPortOf(definition, env, port);
  if (adminPort === undefined || (ownUrl !== undefined && speaksHttp)) {
    return ownUrl ?? `http://127.0.0.1:${port}`;
  }
  // Its own address speaks gRPC or NDJSON, or is not given: the probe goes to the admin port.
  return `http://127.0.0.1:${adminPort}`;
}

export async function probe(definition: ServiceDefinition, env: Env): Promise<ServiceStatus> {
  const url = serviceUrl(definition, env);
  const started = performance.now();
  try {
    const response = await fetch(new URL('/readyz', url), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    const latencyMs = Math.round(performance.now() - started);
    const body = (await response.json()) as { version?: string; checks?: Record<string, string> };
    const failing = Object.entries(body.checks ?? {}).filter(([, outcome]) => outcome !== 'ok');
    return {
      service: definition.name,
      url,
      state: response.ok ? 'ready' : 'waiting',
      latencyMs,
      version: body.version,
      detail: failing.map(([name, outcome]) => `${name}: ${outcome}`).join('; '),
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      service: definition.name,
      url,
      state: 'down',
      detail: cause ?? (error instanceof Error ? error.message : String(error)),
    };
  }
}

export async function printStatus(
  definitions: readonly ServiceDefinition[],
  env: Env,
  json: boolean,
): Promise<boolean> {
  const statuses = await Promise.all(definitions.map((definition) => probe(definition, env)));
  if (json) {
    process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
  } else {
    const rows = statuses.map((status) => [
      status.service,
      status.url,
      status.state,
      status.latencyMs === undefined ? '-' : `${status.latencyMs} ms`,
      status.version ?? '-',
      status.detail,
    ]);
    process.stdout.write(
      `${formatTable(['service', 'url', 'state', 'latency', 'version', 'detail'], rows)}\n`,
    );
  }
  return statuses.every((status) => status.state === 'ready');
}
