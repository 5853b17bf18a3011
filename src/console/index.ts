/**
 * The console `agora up` serves: starts the collector and the HTTP server, and says where it
 * is and what token its actions need. Embedded, it reads the backends of its own process;
 * distributed, it opens its own connections to the Redis and Postgres the services use.
 */
import { openBackends } from '../platform/backends.js';
import type { Broker } from '../platform/broker/broker.js';
import type { Env } from '../platform/config.js';
import { listen } from '../platform/http/server.js';
import type { Logger } from '../platform/logger.js';
import { loadPlatformConfig } from '../platform/platform-settings.js';
import type { Sql } from '../platform/sql/sql.js';
import { systems } from '../services.js';
import { Collector } from './collector.js';
import { LoadRuns } from './load-runs.js';
import type { ProcessSource } from './processes.js';
import { createConsoleServer } from './server.js';
import { loadConsoleConfig } from './settings.js';
import type { Snapshot } from './snapshot.js';
import { Timeline } from './timeline.js';
import { makeToken } from './token.js';

export interface StartConsoleOptions {
  source: ProcessSource;
  /** The environment the services run with: backends, ports, the console's settings. */
  env: Env;
  logger: Logger;
  /** Embedded mode: the backends already open in this process. */
  backends?: { broker?: Broker; sql?: Sql };
  timeline?: Timeline;
}

export interface RunningConsole {
  url: string;
  token: string;
  timeline: Timeline;
  /** What `agora up` prints: where the console is and the action token. */
  banner: string;
  close(): Promise<void>;
}

/** Starts the console, or returns undefined when AGORA_CONSOLE=false. */
export async function startConsole(
  options: StartConsoleOptions,
): Promise<RunningConsole | undefined> {
  const config = loadConsoleConfig(options.env);
  if (!config.enabled) return undefined;
  const { source, logger } = options;
  const log = logger.child({ service: 'console' });
  const timeline = options.timeline ?? new Timeline();
  const token = config.token ?? makeToken();

  let backends = options.backends;
  let closeBackends = async () => {};
  if (backends === undefined) {
    const needs = new Set(source.definitions.flatMap((definition) => definition.needs));
    const opened = await openBackends({
      needs,
      config: loadPlatformConfig(options.env),
      logger: log,
      allowEmbedded: false,
      requiredBy: 'the console',
    });
    backends = opened;
    closeBackends = () => opened.close();
  }
  const backendRows = [
    ...(backends.broker === undefined
      ? []
      : [{ name: `broker (${backends.broker.driver})`, location: backends.broker.location }]),
    ...(backends.sql === undefined
      ? []
      : [{ name: `sql (${backends.sql.driver})`, location: backends.sql.location }]),
  ];

  const collector = new Collector({
    source,
    systems,
    broker: backends.broker,
    sql: backends.sql,
    backends: backendRows,
    timeline,
    logger: log,
    // Longer than a readiness check (1 s), so a slow dependency reads as waiting, not down.
    timeoutMs: Math.max(2_000, config.intervalMs),
  });
  const loads = new LoadRuns({
    profiles: systems.flatMap((system) => (system.loadProfile === undefined ? [] : [system.name])),
    env: options.env,
    timeline,
  });

  const snapshot = (): Snapshot => {
    const latest = collector.latest ?? {
      at: new Date().toISOString(),
      mode: source.mode,
      backends: backendRows,
      systems: [],
      processes: [],
      queues: [],
      views: { tables: [], tasksShare: [], electionRoutes: [], entryAge: [] },
    };
    const actions = source.actions;
    return {
      ...latest,
      actions: {
        processes: actions !== undefined,
        faults: actions?.fault !== undefined,
        loads: loads.profiles.length > 0,
        loadProfiles: [...loads.profiles],
        ...(actions === undefined
          ? { reason: 'needs-distributed' as const }
          : actions.fault === undefined
            ? { reason: 'needs-fault-proxy' as const }
            : {}),
      },
      loads: loads.list(),
      timeline: timeline.since(0, 200),
    };
  };

  let collecting: Promise<void> | undefined;
  const tick = () => {
    collecting ??= collector
      .collect()
      .catch((error: unknown) => {
        log.warn({ err: error }, 'console collection failed');
      })
      .finally(() => {
        collecting = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, config.intervalMs);
  timer.unref();

  const app = await createConsoleServer({
    source,
    loads,
    token,
    logger: log,
    refreshMs: config.intervalMs,
    snapshot,
  });
  let url: string;
  try {
    url = await listen(app, config.host, config.port);
  } catch (error) {
    // The services run without it; say why there is none and how to choose another port.
    const code = (error as { code?: string }).code;
    if (code !== 'EADDRINUSE' && code !== 'EADDRNOTAVAIL') throw error;
    log.warn(
      { port: config.port, host: config.host },
      `no console: ${config.host}:${config.port} is taken (${code}); set AGORA_CONSOLE_PORT`,
    );
    clearInterval(timer);
    await app.close();
    await closeBackends();
    return undefined;
  }
  log.info({ url }, 'console listening');
  return {
    url,
    token,
    timeline,
    banner:
      `console: ${url}/  (actions need the token: ${token}` +
      `${config.token === undefined ? '; set AGORA_CONSOLE_TOKEN to choose one' : ''})\n`,
    close: async () => {
      clearInterval(timer);
      loads.close();
      await app.close();
      await collecting;
      await closeBackends();
    },
  };
}
