/**
 * The election ingest services (election-grpc, election-gateway, election-subscriber) started
 * in-process against real Redis and Postgres, in a key prefix and a schema of their own, with
 * helpers to post ballots and read what was stored. Shared by the election-ingest tests.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';

import type { Ballot } from '../../src/election/ballot.js';
import { electionGatewayService } from '../../src/election/gateway/service.js';
import { electionGrpcService } from '../../src/election/grpc/service.js';
import { electionSubscriberService } from '../../src/election/subscriber/service.js';
import { type Broker, RedisBroker } from '../../src/platform/broker/index.js';
import { type RunningService, startService } from '../../src/platform/runtime.js';
import type { ServiceDefinition } from '../../src/platform/service.js';
import { PgSql, type Sql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from './backends.js';
import { freePort, waitFor, waitForHttp } from './processes.js';

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface World {
  prefix: string;
  schema: string;
  broker: Broker;
  sql: Sql;
  grpcAddress: string;
  /** Starts a service in this world; stopped by `close()`. */
  start(
    definition: ServiceDefinition,
    env?: Record<string, string>,
    backends?: { broker?: Broker; sql?: Sql },
  ): Promise<RunningService>;
  /** election-grpc on `grpcAddress`, its admin port on a free port. */
  startGrpc(
    env?: Record<string, string>,
    backends?: { broker?: Broker; sql?: Sql },
  ): Promise<RunningService>;
  /** Stops one service this world started. */
  stop(service: RunningService): Promise<void>;
  /** Entries ever appended to a stream (XINFO STREAM): unlike its length, trimming keeps it. */
  entriesAdded(stream: string): Promise<number>;
  close(): Promise<void>;
}

export async function openWorld(label: string): Promise<World> {
  const prefix = `${uniqueName(label)}:`;
  const schema = uniqueName(label);
  const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
  const sql = new PgSql({ url: testDatabaseUrl, schema });
  const grpcPort = await freePort();
  const services: RunningService[] = [];
  const extraBrokers: Broker[] = [];

  const start = async (
    definition: ServiceDefinition,
    env: Record<string, string> = {},
    backends: { broker?: Broker; sql?: Sql } = {},
  ) => {
    const serviceBroker = backends.broker ?? broker;
    if (serviceBroker !== broker) extraBrokers.push(serviceBroker);
    const service = await startService(definition, {
      env: { AGORA_ELECTION_GRPC_URL: `127.0.0.1:${grpcPort}`, ...env },
      logger,
      backends: {
        broker: serviceBroker,
        sql: backends.sql ?? sql,
        describe: () => [],
        close: () => Promise.resolve(),
      },
      host: '127.0.0.1',
      port: definition === electionGrpcService ? grpcPort : 0,
    });
    services.push(service);
    return service;
  };

  return {
    prefix,
    schema,
    broker,
    sql,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    start,
    startGrpc: async (env = {}, backends = {}) => {
      const adminPort = await freePort();
      const service = await start(
        electionGrpcService,
        { ELECTION_GRPC_ADMIN_PORT: String(adminPort), ...env },
        backends,
      );
      return service;
    },
    stop: async (service) => {
      services.splice(services.indexOf(service), 1);
      await service.stop();
    },
    entriesAdded: async (stream) => {
      const admin = new Redis(testRedisUrl);
      try {
        const info = (await admin.call('XINFO', 'STREAM', `${prefix}${stream}`)) as unknown[];
        return Number(info[info.indexOf('entries-added') + 1]);
      } finally {
        admin.disconnect();
      }
    },
    close: async () => {
      await Promise.all(services.splice(0).map((service) => service.stop()));
      await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      const admin = new Redis(testRedisUrl);
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      admin.disconnect();
      await Promise.all([broker.close(), sql.close(), ...extraBrokers.map((b) => b.close())]);
    },
  };
}

/** The three ingest services, ready, and the gateway's URL. */
export async function startIngest(world: World, gatewayEnv: Record<string, string> = {}) {
  const grpcServer = await world.startGrpc();
  await waitForHttp(`${grpcServer.healthUrl}/readyz`);
  const subscriber = await world.start(electionSubscriberService, {
    ELECTION_SUBSCRIBER_BLOCK_MS: '50',
  });
  const gateway = await world.start(electionGatewayService, gatewayEnv);
  await waitForHttp(`${subscriber.url}/readyz`);
  await waitForHttp(`${gateway.url}/readyz`);
  return { gateway: gateway.url, subscriber: subscriber.url };
}

let sequence = 0;

/** A ballot of the seed's shape, varied so the summaries have several rows. */
export function seedBallot(overrides: Partial<Ballot> = {}): Omit<Ballot, 'id'> & { id?: string } {
  const n = sequence++;
  return {
    sede: `Escuela ${n % 4}`,
    municipio: ['Mixco', 'Villa Nueva', 'Cobán'][n % 3] ?? 'Mixco',
    departamento: ['Guatemala', 'Alta Verapaz'][n % 2] ?? 'Guatemala',
    papeleta: ['presidente', 'alcalde'][n % 2] ?? 'presidente',
    partido: ['UNE', 'VAMOS', 'SEMILLA', 'VALOR'][n % 4] ?? 'UNE',
    ...overrides,
  };
}

export interface IngestAnswer {
  status: number;
  body: { ids?: string[]; route?: string; error?: { code: string; message: string } };
}

export async function post(url: string, body: unknown): Promise<IngestAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as IngestAnswer['body'] };
}

/** Stored ballots' ids and routes, by id. */
export async function storedRoutes(sql: Sql, ids: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await sql.query<{ id: string; route: string }>(
    'SELECT id, route FROM ballots WHERE id = ANY($1::text[])',
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row.route]));
}

export async function countBallots(sql: Sql): Promise<number> {
  const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM ballots');
  return rows[0]?.n ?? 0;
}

/** Waits until every id is stored (the Redis route is asynchronous behind the 201). */
export function waitStored(sql: Sql, ids: readonly string[], timeoutMs = 15_000) {
  return waitFor(async () => (await storedRoutes(sql, ids)).size === ids.length, {
    timeoutMs,
    message: `${ids.length} ballots to be stored`,
  });
}
