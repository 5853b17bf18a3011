/**
 * `agora health`: the container health check. Asks `/healthz` of the service running in this
 * container (or network namespace) on 127.0.0.1 and exits 0 when it answers 2xx, 1 otherwise.
 * The image's HEALTHCHECK runs it without arguments, because one image serves every service and
 * Docker does not pass the container's command to the check.
 */
import type { Env } from '../platform/config.js';
import { readSetting, settings } from '../platform/config.js';
import { adminPortOf, portForRun } from '../platform/ports.js';
import type { ServiceDefinition } from '../platform/service.js';

const timeoutMs = 3_000;

/** Where a service answers /healthz and /readyz: its admin port, else its own port. */
export function healthPortOf(definition: ServiceDefinition, env: Env = {}): number {
  return adminPortOf(definition, env) ?? definition.defaultPort;
}

/**
 * The ports to ask. For a named service: its admin port, else the port `agora run` gives it
 * (PORT, its aliases, its default). Unnamed: PORT, the admin ports a service on PORT would have,
 * and every registered service's health port, since only one service runs in a container and
 * whichever answers is it.
 */
export function healthPorts(
  registry: readonly ServiceDefinition[],
  named: ServiceDefinition | undefined,
  env: Env,
): number[] {
  const port = readSetting(settings.port('PORT'), env);
  if (named !== undefined) {
    const own = portForRun(named, env);
    return [adminPortOf(named, env, own) ?? own];
  }
  const ports = registry.map((definition) => healthPortOf(definition, env));
  if (port === undefined) return [...new Set(ports)];
  const following = registry.flatMap((definition) => adminPortOnPort(definition, env, port));
  return [...new Set([port, ...following, ...ports])];
}

/** The admin port a service would have on `port`; none when it has none or it would be past 65535. */
function adminPortOnPort(definition: ServiceDefinition, env: Env, port: number): number[] {
  try {
    const admin = adminPortOf(definition, env, port);
    return admin === undefined ? [] : [admin];
  } catch {
    return [];
  }
}

/** Resolves with the first port whose /healthz answers 2xx, or undefined when none does. */
export async function firstHealthy(
  host: string,
  ports: readonly number[],
): Promise<number | undefined> {
  const attempts = ports.map(async (port) => {
    const response = await fetch(`http://${host}:${port}/healthz`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`${port} answered ${response.status}`);
    return port;
  });
  try {
    return await Promise.any(attempts);
  } catch {
    return undefined;
  }
}

/** Prints one line saying what answered, or what was asked; resolves true when healthy. */
export async function checkHealth(
  registry: readonly ServiceDefinition[],
  named: ServiceDefinition | undefined,
  env: Env,
  host: string,
): Promise<boolean> {
  const ports = healthPorts(registry, named, env);
  const port = await firstHealthy(host, ports);
  if (port === undefined) {
    process.stdout.write(
      `unhealthy: no /healthz answered 2xx on ${host} port ${ports.join(', ')}\n`,
    );
    return false;
  }
  process.stdout.write(`healthy: http://${host}:${port}/healthz\n`);
  return true;
}
