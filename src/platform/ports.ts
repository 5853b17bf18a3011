/**
 * Where a service listens: its port under `agora run` and `agora up`, and its admin port. Kept
 * apart from the runtime so `agora health` and `agora status` read them without loading a server.
 */
import { type Env, loadConfig, readSetting, settings } from './config.js';
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
 * The admin port of a service that declares one: its variable, else the declared default, else
 * the service's own port + 100 (news nodes: 8005 -> 8105, 8006 -> 8106).
 */
export function adminPortOf(
  definition: ServiceDefinition,
  env: Env,
  port = definition.defaultPort,
): number | undefined {
  const { admin } = definition;
  if (admin === undefined) return undefined;
  const fallback = admin.defaultPort ?? port + adminPortOffset;
  return readSetting(settings.port(admin.variable, { default: fallback }), env) ?? fallback;
}

const adminPortOffset = 100;

/** Validates a definition's settings without starting it, so bad values stop everything early. */
export function checkSettings(definition: ServiceDefinition, env: Env): void {
  loadConfig(definition.settings, env);
  adminPortOf(definition, env);
}
