/**
 * Where a service listens: its port under `agora run` and `agora up`, and its admin port. Kept
 * apart from the runtime so `agora health` and `agora status` read them without loading a server.
 */
import { type Env, loadConfig, readSetting, settings } from './config.js';
import { ConfigError } from './errors.js';
import { envNameOf } from './platform-settings.js';
import type { ServiceDefinition } from './service.js';

/**
 * The port a service listens on when it runs alone (`agora run`): PORT, then the seed's
 * aliases (BIND_PORT), then AGORA_<SERVICE>_PORT, then its default.
 */
export function portForRun(definition: ServiceDefinition, env: Env): number {
  const spec = settings.port('PORT', {
    aliases: [...(definition.portAliases ?? []), `AGORA_${envNameOf(definition.name)}_PORT`],
    default: definition.defaultPort,
  });
  return readSetting(spec, env) ?? definition.defaultPort;
}

/** The port in `agora up`, where PORT cannot serve every service: AGORA_<SERVICE>_PORT or default. */
export function portForUp(definition: ServiceDefinition, env: Env): number {
  const spec = settings.port(`AGORA_${envNameOf(definition.name)}_PORT`, {
    default: definition.defaultPort,
  });
  return readSetting(spec, env) ?? definition.defaultPort;
}

/**
 * The admin port of a service that declares one: its variable, else the declared default when
 * the service is on its default port, else the service's own port + 100. So replicas on 8005,
 * 8006 get 8105, 8106, and a replica of a service with a fixed admin port (election-grpc on
 * 50052) does not take its first replica's (3003). Port 0 (any free port) gives 0 as well.
 */
export function adminPortOf(
  definition: ServiceDefinition,
  env: Env,
  port = definition.defaultPort,
): number | undefined {
  const { admin } = definition;
  if (admin === undefined) return undefined;
  const fallback =
    port === 0
      ? 0
      : admin.defaultPort !== undefined && port === definition.defaultPort
        ? admin.defaultPort
        : port + adminPortOffset;
  const chosen = readSetting(settings.port(admin.variable), env) ?? fallback;
  if (chosen > maxPort) {
    throw new ConfigError(
      admin.variable,
      `${definition.name} on port ${port} has no admin port ${chosen} (above ${maxPort}): set ${admin.variable}`,
    );
  }
  return chosen;
}

/**
 * What replica `index` (1-based) of a service in `agora up` gets on top of `env`: an admin port
 * set by its variable counts up with the replicas, as their own ports count up from the
 * service's, so two replicas never try to bind one port. Empty when nothing needs to change.
 */
export function replicaAdminEnv(definition: ServiceDefinition, env: Env, index: number): Env {
  const variable = definition.admin?.variable;
  if (variable === undefined || index === 1) return {};
  const chosen = readSetting(settings.port(variable), env);
  if (chosen === undefined) return {};
  return { [variable]: String(chosen + index - 1) };
}

const adminPortOffset = 100;
const maxPort = 65_535;

/** Validates a definition's settings without starting it, so bad values stop everything early. */
export function checkSettings(definition: ServiceDefinition, env: Env): void {
  loadConfig(definition.settings, env);
  adminPortOf(definition, env);
}
