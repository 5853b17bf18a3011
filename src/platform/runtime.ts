/**
 * Starts service definitions: validates their settings, gives each its context (logger,
 * metrics, readiness with its backends' checks, abort signal) and returns running services.
 */
import type { Backends } from './backends.js';
import { loadConfig, readSetting, settings, type Env } from './config.js';
import { Readiness } from './health.js';
import type { Logger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { envNameOf } from './platform-settings.js';
import type { ServiceContext, ServiceDefinition, ServiceHandle } from './service.js';
import { version } from './version.js';

export interface RunningService {
  definition: ServiceDefinition;
  url: string;
  stop(): Promise<void>;
}

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

/** Validates a definition's settings without starting it, so bad values stop everything early. */
export function checkSettings(definition: ServiceDefinition, env: Env): void {
  loadConfig(definition.settings, env);
}

export interface StartOptions {
  env: Env;
  logger: Logger;
  backends: Backends;
  host: string;
  port: number;
}

export async function startService(
  definition: ServiceDefinition,
  options: StartOptions,
): Promise<RunningService> {
  const { backends } = options;
  const logger = options.logger.child({ service: definition.name });
  const readiness = new Readiness();
  const controller = new AbortController();

  if (definition.needs.includes('broker')) {
    const broker = backends.broker;
    if (broker === undefined) throw new Error(`${definition.name} needs a broker; none was opened`);
    readiness.add(`broker (${broker.driver})`, () => broker.ping());
  }
  if (definition.needs.includes('sql')) {
    const sql = backends.sql;
    if (sql === undefined) throw new Error(`${definition.name} needs SQL; none was opened`);
    readiness.add(`sql (${sql.driver})`, () => sql.ping());
  }

  const ctx: ServiceContext = {
    name: definition.name,
    config: loadConfig(definition.settings, options.env),
    env: options.env,
    logger,
    host: options.host,
    port: options.port,
    version,
    get broker() {
      return backends.broker ?? missing(definition.name, 'broker');
    },
    get sql() {
      return backends.sql ?? missing(definition.name, 'sql');
    },
    metrics: createMetricsRegistry(definition.name),
    readiness,
    signal: controller.signal,
  };

  const handle: ServiceHandle = await definition.start(ctx);
  logger.debug({ url: handle.url }, 'started');
  return {
    definition,
    url: handle.url,
    stop: async () => {
      controller.abort();
      await handle.stop();
    },
  };
}

function missing(service: string, backend: string): never {
  throw new Error(`${service} uses the ${backend} but does not list it in its needs`);
}
