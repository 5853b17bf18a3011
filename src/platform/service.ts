/**
 * The service contract: what every Agora service declares (name, system, ports, settings,
 * backends, migrations) and what it is given to start. The same definition runs in `agora up`,
 * `agora up --distributed` and `agora run`; a service never knows which.
 */
import type { Registry } from 'prom-client';

import type { Broker } from './broker/broker.js';
import type { ConfigOf, SettingsSpec } from './config.js';
import type { Readiness } from './health.js';
import type { HttpLimits } from './http/limits.js';
import type { Logger } from './logger.js';
import type { Migration } from './sql/migrations.js';
import type { Sql } from './sql/sql.js';

/** The five systems of the seeds; a system's folder is `src/<name>/`. */
export type SystemName = 'counter' | 'voting' | 'election' | 'news' | 'tasks';

export type Backend = 'broker' | 'sql';

/** The backends a service gets: exactly those its `needs` name, so no getter has to throw. */
export type BackendsOf<N extends readonly Backend[]> = Pick<ServiceBackends, N[number]>;

export interface ServiceBackends {
  broker: Broker;
  /**
   * Answers a readable 503 (`database_unavailable`) until the definition's migrations are
   * applied, so no route ever sees "relation does not exist".
   */
  sql: Sql;
}

export interface BaseContext<S extends SettingsSpec = SettingsSpec> {
  name: string;
  /** The service's own settings, validated before anything started. */
  config: ConfigOf<S>;
  logger: Logger;
  host: string;
  port: number;
  /**
   * The HTTP admin port (/healthz, /readyz, /metrics) when the definition declares one; then
   * `createHttpServer(ctx)` leaves /metrics off the service's own port.
   */
  adminPort: number | undefined;
  version: string;
  metrics: Registry;
  /** The platform's HTTP timeouts and connection caps; `createHttpServer(ctx)` applies them. */
  httpLimits: HttpLimits;
  /**
   * What `/readyz` reports: the backends the service needs and its schema are checked there
   * already; a service adds what else it waits for.
   */
  readiness: Readiness;
  /** Aborted when the service is asked to stop. */
  signal: AbortSignal;
  /**
   * Resolves once the definition's migrations are applied (at once without any), or when the
   * service is asked to stop: a loop that waits for it checks `signal` after.
   */
  schemaReady: Promise<void>;
}

/** What `start` receives: the base context and exactly the backends its `needs` name. */
export type ServiceContext<
  S extends SettingsSpec = SettingsSpec,
  N extends readonly Backend[] = readonly Backend[],
> = BaseContext<S> & BackendsOf<N>;

export interface ServiceHandle {
  /** Where a client reaches it: http://, grpc:// or tcp://; the runtime knows the admin URL. */
  url: string;
  /** Stops taking work, finishes or hands back what is in flight, closes, within a bound. */
  stop(): Promise<void>;
}

/*
 * Bare `ServiceDefinition` is the registry's type: a list holds definitions of every settings
 * and needs type. `out` keeps each assignable to it: `start` is a method, so bivariant in its
 * context, which TypeScript's variance measurement of `config` would otherwise make invariant.
 */
export interface ServiceDefinition<
  out S extends SettingsSpec = SettingsSpec,
  out N extends readonly Backend[] = readonly Backend[],
> {
  name: string;
  system: SystemName;
  description: string;
  defaultPort: number;
  /** Variables other than PORT that also set the port (the seeds' names, e.g. BIND_PORT). */
  portAliases?: readonly string[];
  /**
   * The HTTP admin port (/healthz, the full /readyz, /metrics), which the platform serves: every
   * service with a public port declares one, so monitoring and readiness details (internal
   * hosts, driver errors) stay off the ports clients and the Ingress reach. An HTTP service's own
   * port keeps /healthz and a summarized /readyz, and answers 404 on /metrics. Absent: those
   * routes are on `defaultPort`, itself an admin port (a stream consumer's only port). Health
   * checks, the console and deploy/ probe it.
   */
  admin?: AdminPort;
  needs: N;
  /**
   * The system's schema, applied by the platform in the background at start (whichever
   * replica takes the lock first); readiness waits for it and `ctx.sql` answers 503 until then.
   */
  migrations?: readonly Migration[];
  /**
   * 'shared-port': replicas may share one port as node:cluster workers (`agora run --cluster N`),
   * because each request stands alone and all state is in the backends. Absent: one process.
   */
  scaling?: 'shared-port';
  settings: S;
  /**
   * Starts the service. It imports the service's code (`await import('./server.js')`), so that
   * reading the registry, and running any other service, never loads it: a definition's module
   * imports only what its metadata needs (settings, migrations, protocol constants).
   */
  start(ctx: ServiceContext<S, N>): Promise<ServiceHandle>;
}

export interface AdminPort {
  /** The variable that sets it, e.g. ELECTION_GRPC_ADMIN_PORT. */
  variable: string;
  /**
   * Its port when the service is on its default port. Absent, or on another port (a replica,
   * `--port`): the service's own port + 100, so replicas on 8005, 8006 get 8105, 8106.
   */
  defaultPort?: number;
}

/** The context a definition's `start` gives its code, for the module that holds that code. */
export type ContextOf<D> =
  D extends ServiceDefinition<infer S, infer N> ? ServiceContext<S, N> : never;

/** Keeps a definition's settings and needs types tied to its start function. */
export function defineService<S extends SettingsSpec, const N extends readonly Backend[]>(
  definition: ServiceDefinition<S, N>,
): ServiceDefinition<S, N> {
  return definition;
}
