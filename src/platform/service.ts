/**
 * The service contract: what every Agora service declares (name, system, port, settings,
 * backends it needs) and what it is given to start. The same definition runs in `agora up`,
 * `agora up --distributed` and `agora run`; a service never knows which.
 */
import type { Registry } from 'prom-client';
import type { Broker } from './broker/broker.js';
import type { ConfigOf, Env, SettingsSpec } from './config.js';
import type { Readiness } from './health.js';
import type { Logger } from './logger.js';
import type { Sql } from './sql/sql.js';

export type Backend = 'broker' | 'sql';

export interface ServiceContext<S extends SettingsSpec = SettingsSpec> {
  name: string;
  /** The service's own settings, validated before anything started. */
  config: ConfigOf<S>;
  /** The raw environment, for addresses of other services (`AGORA_<SERVICE>_URL`). */
  env: Env;
  logger: Logger;
  host: string;
  port: number;
  version: string;
  /** Present when the definition lists 'broker' in `needs`. */
  broker: Broker;
  /** Present when the definition lists 'sql' in `needs`. */
  sql: Sql;
  metrics: Registry;
  /** What `/readyz` reports; the backends the service needs are already checked there. */
  readiness: Readiness;
  /** Aborted when the service is asked to stop. */
  signal: AbortSignal;
}

export interface ServiceHandle {
  /** Where a client reaches it (its HTTP URL, or its admin URL when it has no public one). */
  url: string;
  /** Stops taking work, finishes or hands back what is in flight, closes, within a bound. */
  stop(): Promise<void>;
}

export interface ServiceDefinition<S extends SettingsSpec = SettingsSpec> {
  name: string;
  system: string;
  description: string;
  defaultPort: number;
  /** Variables other than PORT that also set the port (the seeds' names, e.g. BIND_PORT). */
  portAliases?: readonly string[];
  /**
   * The HTTP admin port (/healthz, /readyz, /metrics) of a service whose `defaultPort` speaks
   * another protocol (gRPC, NDJSON over TCP). Absent: those routes are on `defaultPort`.
   * Health checks and the deployment files (deploy/) probe this port.
   */
  adminPort?: number;
  needs: readonly Backend[];
  /**
   * 'shared-port': replicas may share one port as node:cluster workers (`agora run --cluster N`),
   * because each request stands alone and all state is in the backends. Absent: one process.
   */
  scaling?: 'shared-port';
  settings: S;
  start(ctx: ServiceContext<S>): Promise<ServiceHandle>;
}

/** Keeps a definition's settings type tied to its start function. */
export function defineService<S extends SettingsSpec>(
  definition: ServiceDefinition<S>,
): ServiceDefinition<S> {
  return definition;
}
