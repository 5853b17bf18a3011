/**
 * `agora status`: asks every registered service's `/readyz` at AGORA_<SERVICE>_URL (or its
 * default local port; for a service with a separate admin port, AGORA_<SERVICE>_ADMIN_URL or
 * that port) and prints up/waiting/down, latency and version.
 */
import type { Env } from '../platform/config.js';
import { envNameOf } from '../platform/platform-settings.js';
import { adminPortOf } from '../platform/ports.js';
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

/** Where the service answers HTTP `/readyz`: its own port, or its admin port when it has one. */
export function serviceUrl(definition: ServiceDefinition, env: Env): string {
  const name = envNameOf(definition.name);
  const adminPort = adminPortOf(definition, env);
  if (adminPort !== undefined) {
    // Its own address speaks gRPC or NDJSON; the probe goes to the admin port.
    return env[`AGORA_${name}_ADMIN_URL`] ?? `http://127.0.0.1:${adminPort}`;
  }
  return env[`AGORA_${name}_URL`] ?? `http://127.0.0.1:${definition.defaultPort}`;
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
