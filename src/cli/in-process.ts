/**
 * Runs services inside this process (`agora up` runs them all, `agora run` one): validates every
 * setting first, opens the backends once, starts the services, and stops them all on a signal.
 */
import { backendNames, type Backends, openBackends } from '../platform/backends.js';
import type { Env } from '../platform/config.js';
import { createLogger, type Logger, type LogLevel } from '../platform/logger.js';
import { loadPlatformConfig, type PlatformConfig } from '../platform/platform-settings.js';
import { checkSettings } from '../platform/ports.js';
import { type RunningService, startService } from '../platform/runtime.js';
import type { Backend, ServiceDefinition } from '../platform/service.js';
import { stopOnSignals } from '../platform/shutdown.js';
import { saveCompiledCode } from './compile-cache.js';
import { waitUntilReady } from './readiness-wait.js';
import { startUpOver } from './start-up.js';

export interface InProcessOptions {
  env: Env;
  allowEmbedded: boolean;
  host?: string;
  portOf(definition: ServiceDefinition): number;
  /** The services' log level when LOG_LEVEL is unset (`agora up`: warn, the table says the rest). */
  serviceLogLevel?: LogLevel;
  /**
   * Called once every service is ready, with what is running, on which backends, what backs
   * each need by name ("Redis", "embedded broker", "Postgres", "embedded PGlite"); `opened`
   * are the backends themselves (the first steps use its database; the console reads the
   * streams and tables through them).
   */
  onStarted?(
    running: readonly RunningService[],
    backends: readonly string[],
    backedBy: (need: Backend) => string,
    opened: Backends,
  ): void | Promise<void>;
}

/**
 * What every way of running does first: validate the platform's and every service's settings,
 * so one bad value stops everything before anything starts, and make the logger.
 */
export function prepare(
  definitions: readonly ServiceDefinition[],
  env: Env,
): { config: PlatformConfig; logger: Logger } {
  const config = loadPlatformConfig(env);
  for (const definition of definitions) checkSettings(definition, env);
  const logger = createLogger({
    level: config.logLevel,
    pretty: config.logFormat === undefined ? undefined : config.logFormat === 'pretty',
  });
  return { config, logger };
}

export async function runInProcess(
  definitions: readonly ServiceDefinition[],
  options: InProcessOptions,
): Promise<void> {
  const { config, logger } = prepare(definitions, options.env);
  // Ports are settings too: a bad one must stop everything before any backend opens.
  const ports = new Map(definitions.map((definition) => [definition, options.portOf(definition)]));

  const needs = new Set<Backend>(definitions.flatMap((definition) => definition.needs));
  const backends = await openBackends({
    needs,
    config,
    logger,
    allowEmbedded: options.allowEmbedded,
    requiredBy: definitions.map((definition) => definition.name).join(', '),
  });

  const running: RunningService[] = [];
  const stopAll = async () => {
    for (const service of running.reverse()) {
      await service.stop().catch((error: unknown) => {
        logger.error({ err: error, service: service.definition.name }, 'stop failed');
      });
    }
    await backends.close();
  };

  const serviceLogger =
    options.serviceLogLevel === undefined || options.env.LOG_LEVEL !== undefined
      ? logger
      : logger.child({}, { level: options.serviceLogLevel });
  try {
    for (const definition of definitions) {
      running.push(
        await startService(definition, {
          env: options.env,
          logger: serviceLogger,
          backends,
          host: options.host ?? config.host,
          port: ports.get(definition) ?? definition.defaultPort,
        }),
      );
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  const stopped = new AbortController();
  stopOnSignals(
    async () => {
      stopped.abort();
      await stopAll();
    },
    { timeoutMs: config.shutdownTimeoutMs, logger },
  );
  const sources = running.map((service) => ({
    name: service.definition.name,
    readiness: () => service.readiness(),
  }));
  await waitUntilReady(sources, logger, stopped.signal);
  if (stopped.signal.aborted) return;
  const backedBy = (need: Backend): string =>
    need === 'broker'
      ? backendNames[backends.broker?.driver ?? 'memory']
      : backendNames[backends.sql?.driver ?? 'pglite'];
  await options.onStarted?.(running, backends.describe(), backedBy, backends);
  startUpOver();
  saveCompiledCode();
}
