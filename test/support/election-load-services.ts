/**
 * The election ingest (election-grpc, election-gateway, election-subscriber) as processes on
 * free ports against real Redis and Postgres, in a key prefix and a schema of their own, for
 * the load and chaos tests; each service can be killed and started again on the same port.
 */
import { Redis } from 'ioredis';

import { PgSql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from './backends.js';
import { freePort, type ManagedProcess, startAgora, waitForHttp } from './processes.js';

export type IngestService = 'election-grpc' | 'election-gateway' | 'election-subscriber';

export interface ElectionIngest {
  readonly prefix: string;
  readonly schema: string;
  readonly gatewayUrl: string;
  /** host:port of election-grpc. */
  readonly grpcAddress: string;
  readonly sql: PgSql;
  readonly redis: Redis;
  readonly processes: Map<IngestService, ManagedProcess>;
  /** Each service's /readyz URL. */
  readonly readyz: Record<IngestService, string>;
  /** SIGKILLs the service and starts it again on its port; resolves once it is ready. */
  restart(service: IngestService, signal?: NodeJS.Signals): Promise<void>;
  /** Drops the schema and the keys, closes the connections (the processes: killAll). */
  cleanUp(): Promise<void>;
}

/** Other servers than the shared test ones, for the chaos tests that crash them. */
export interface IngestBackends {
  redisUrl?: string;
  /** The services' Postgres (it may be a fault proxy). */
  databaseUrl?: string;
  /** The returned `sql` handle's, when not the services' (past the proxy). */
  directDatabaseUrl?: string;
}

/** Starts the three ingest services and resolves once each one's /readyz says 200. */
export async function startElectionIngest(
  label: string,
  extraEnv: NodeJS.ProcessEnv = {},
  backends: IngestBackends = {},
): Promise<ElectionIngest> {
  const redisUrl = backends.redisUrl ?? testRedisUrl;
  const databaseUrl = backends.databaseUrl ?? testDatabaseUrl;
  const prefix = `${uniqueName(label)}:`;
  const schema = uniqueName(label);
  const ports = {
    grpc: await freePort(),
    grpcAdmin: await freePort(),
    gateway: await freePort(),
    subscriber: await freePort(),
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    AGORA_REDIS_PREFIX: prefix,
    AGORA_DB_SCHEMA: schema,
    AGORA_ELECTION_GRPC_URL: `127.0.0.1:${ports.grpc}`,
    ELECTION_GRPC_ADMIN_PORT: String(ports.grpcAdmin),
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    ...extraEnv,
  };
  const where: Record<IngestService, { port: number; readyz: string }> = {
    'election-grpc': {
      port: ports.grpc,
      readyz: `http://127.0.0.1:${ports.grpcAdmin}/readyz`,
    },
    'election-gateway': {
      port: ports.gateway,
      readyz: `http://127.0.0.1:${ports.gateway}/readyz`,
    },
    'election-subscriber': {
      port: ports.subscriber,
      readyz: `http://127.0.0.1:${ports.subscriber}/readyz`,
    },
  };
  const processes = new Map<IngestService, ManagedProcess>();
  const start = async (service: IngestService) => {
    const { port, readyz } = where[service];
    processes.set(service, startAgora(['run', service, '--port', String(port)], { env }));
    await waitForHttp(readyz, { timeoutMs: 30_000 });
  };
  await Promise.all((Object.keys(where) as IngestService[]).map(start));

  const sql = new PgSql({ url: backends.directDatabaseUrl ?? databaseUrl, schema });
  const redis = new Redis(redisUrl);
  // A chaos test may crash this Redis; the handle reconnects, its errors are expected.
  redis.on('error', () => undefined);
  return {
    prefix,
    schema,
    gatewayUrl: `http://127.0.0.1:${ports.gateway}/`,
    grpcAddress: `127.0.0.1:${ports.grpc}`,
    sql,
    redis,
    processes,
    readyz: {
      'election-grpc': where['election-grpc'].readyz,
      'election-gateway': where['election-gateway'].readyz,
      'election-subscriber': where['election-subscriber'].readyz,
    },
    async restart(service, signal = 'SIGKILL') {
      const running = processes.get(service);
      running?.kill(signal);
      await running?.exited;
      await start(service);
    },
    async cleanUp() {
      await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await sql.close();
      redis.disconnect();
    },
  };
}
