/**
 * Starts service definitions and owns the rest of their life: validates their settings, gives
 * each its context (logger, metrics, the backends it needs, readiness, abort signal), applies
 * its migrations in the background behind a schema gate, serves its admin port, and stops it.
 */
import type { Backends } from './backends.js';
import type { Broker } from './broker/broker.js';
import { type Env, loadConfig } from './config.js';
import { Readiness, type ReadinessReport } from './health.js';
import { loadHttpLimits } from './http/limits.js';
import { createHttpServer, type HttpServer, listen } from './http/server.js';
import type { Logger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { adminPortOf } from './ports.js';
import type { BaseContext, ServiceContext, ServiceDefinition } from './service.js';
import { SchemaGate } from './sql/schema-gate.js';
import type { Sql } from './sql/sql.js';
import { version } from './version.js';

export { adminPortOf, checkSettings, portForRun, portForUp } from './ports.js';

export interface RunningService {
  definition: ServiceDefinition;
  url: string;
  /** The admin port's URL, for a service that declares one. */
  adminUrl: string | undefined;
  /** Where `/healthz`, `/readyz` and `/metrics` answer: the admin URL, else `url`. */
  healthUrl: string;
  /** What its `/readyz` says now: ready, or which checks wait and why. */
  readiness(): Promise<ReadinessReport>;
  stop(): Promise<void>;
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
  const logger = options.logger.child({ service: definition.name });
  const readiness = new Readiness(logger);
  const controller = new AbortController();
  const { signal } = controller;

  const granted: { broker?: Broker; sql?: Sql } = {};
  if (definition.needs.includes('broker')) {
    const broker = options.backends.broker;
    if (broker === undefined) throw new Error(`${definition.name} needs a broker; none was opened`);
    readiness.add(`broker (${broker.driver})`, () => broker.ping());
    granted.broker = broker;
  }
  let schema: SchemaGate | undefined;
  if (definition.needs.includes('sql')) {
    const sql = options.backends.sql;
    if (sql === undefined) throw new Error(`${definition.name} needs SQL; none was opened`);
    readiness.add(`sql (${sql.driver})`, () => sql.ping());
    granted.sql = sql;
    if (definition.migrations !== undefined) {
      schema = new SchemaGate(sql, definition.system, definition.migrations);
      readiness.add('schema', () => (schema as SchemaGate).check());
      granted.sql = schema.sql;
    }
  } else if (definition.migrations !== undefined) {
    throw new Error(`${definition.name} declares migrations but does not need SQL`);
  }

  const base: BaseContext = {
    name: definition.name,
    config: loadConfig(definition.settings, options.env),
    logger,
    host: options.host,
    port: options.port,
    adminPort: adminPortOf(definition, options.env, options.port),
    version,
    metrics: createMetricsRegistry(definition.name),
    httpLimits: loadHttpLimits(options.env),
    readiness,
    signal,
    schemaReady: untilAborted(schema?.applied ?? Promise.resolve(), signal),
  };
  // The admin port and the schema come first: /readyz answers (not ready) while the service
  // starts, and migrations wait for Postgres in the background, however late it comes.
  let admin: HttpServer | undefined;
  let adminUrl: string | undefined;
  let started = false;
  if (base.adminPort !== undefined) {
    // The admin port answers before the service's own port listens: it is not ready until then,
    // so whoever waits on it (a probe, `up --distributed`) does not send clients there too early.
    readiness.add('started', () =>
      started ? Promise.resolve() : Promise.reject(new Error('starting')),
    );
    admin = await createHttpServer(base, { readinessDetail: 'full', metrics: true });
    adminUrl = await listen(admin, options.host, base.adminPort);
  }
  const migrated = schema?.apply({ signal, logger }) ?? Promise.resolve();
  // `granted` holds exactly the backends `needs` names, which is what the context type says.
  const ctx = { ...base, ...granted } as ServiceContext;

  let handle;
  try {
    handle = await definition.start(ctx);
  } catch (error) {
    controller.abort();
    await migrated;
    await admin?.close();
    throw error;
  }
  started = true;
  logger.debug({ url: handle.url, admin: adminUrl }, 'started');
  const { url } = handle;
  const stopService = handle.stop.bind(handle);
  return {
    definition,
    url,
    adminUrl,
    healthUrl: adminUrl ?? url,
    readiness: () => readiness.report(),
    stop: async () => {
      controller.abort();
      await stopService();
      await migrated;
      await admin?.close();
    },
  };
}

/** Resolves when `work` does or the signal aborts, whichever comes first. */
function untilAborted(work: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void work.then(done);
  });
}
