/**
 * The built `agora run` for election-grpc, election-subscriber and election-gateway as OS
 * processes against real Redis and Postgres: the seed's JSON posted to /ingest is stored, and a
 * subscriber SIGKILLed in the middle of a backlog loses nothing: its successor reclaims the
 * entries it held, and each ballot is stored exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findSummaryDrift } from '../../src/election/ballot-store.js';
import { BallotsClient } from '../../src/election/grpc-client.js';
import { ballotsStream, subscribersGroup } from '../../src/election/protocol.js';
import { RedisBroker } from '../../src/platform/broker/index.js';
import { PgSql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from '../support/backends.js';
import { countBallots, post, seedBallot, waitStored } from '../support/election-ingest-world.js';
import {
  freePort,
  killAll,
  type ManagedProcess,
  startAgora,
  waitFor,
  waitForHttp,
} from '../support/processes.js';

const prefix = `${uniqueName('ingestproc')}:`;
const schema = uniqueName('ingestproc');
const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
const sql = new PgSql({ url: testDatabaseUrl, schema });
let env: NodeJS.ProcessEnv;
let gateway: string;
let grpcAddress: string;

function run(service: string, port: number, extra: NodeJS.ProcessEnv = {}): ManagedProcess {
  return startAgora(['run', service, '--port', String(port)], { env: { ...env, ...extra } });
}

async function startSubscriber(): Promise<{ process: ManagedProcess; url: string }> {
  const port = await freePort();
  const process = run('election-subscriber', port, {
    ELECTION_SUBSCRIBER_BATCH_SIZE: '50',
    ELECTION_SUBSCRIBER_RECLAIM_IDLE_MS: '500',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/readyz`, { timeoutMs: 30_000 });
  return { process, url };
}

beforeAll(async () => {
  const [grpcPort, adminPort, gatewayPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
  ]);
  grpcAddress = `127.0.0.1:${grpcPort}`;
  env = {
    ...process.env,
    REDIS_URL: testRedisUrl,
    DATABASE_URL: testDatabaseUrl,
    AGORA_REDIS_PREFIX: prefix,
    AGORA_DB_SCHEMA: schema,
    AGORA_ELECTION_GRPC_URL: `grpc://${grpcAddress}`,
    ELECTION_GRPC_ADMIN_PORT: String(adminPort),
    LOG_LEVEL: 'warn',
  };
  run('election-grpc', grpcPort);
  run('election-gateway', gatewayPort);
  gateway = `http://127.0.0.1:${gatewayPort}`;
  await waitForHttp(`http://127.0.0.1:${adminPort}/readyz`, { timeoutMs: 30_000 });
  await waitForHttp(`${gateway}/readyz`, { timeoutMs: 30_000 });
});

afterAll(async () => {
  await killAll();
  await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await broker.close();
  await sql.close();
});

describe('the ingest services as processes', () => {
  it('election-grpc finds its .proto when run from dist/ and stores a Cast', async () => {
    const client = new BallotsClient({ address: grpcAddress });
    expect(await client.cast({ id: 'from-dist', ...seedBallot() })).toEqual({
      id: 'from-dist',
      duplicate: false,
    });
    client.close();
  });

  it('loses nothing when a subscriber is SIGKILLed with a backlog', async () => {
    const first = await startSubscriber();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        post(
          `${gateway}/ingest`,
          Array.from({ length: 50 }, () => seedBallot()),
        ),
      ),
    );
    expect(answers.every((answer) => answer.status === 201)).toBe(true);
    const ids = answers.flatMap((answer) => answer.body.ids ?? []);
    expect(new Set(ids).size).toBe(1_000);

    // Killed as soon as it has stored something, so it most likely holds a batch unacked.
    await waitFor(async () => (await countBallots(sql)) > 1, { timeoutMs: 20_000 });
    first.process.kill('SIGKILL');
    await first.process.exited;

    await startSubscriber();
    await waitStored(sql, ids, 60_000);
    await waitFor(async () => (await broker.pending(ballotsStream, subscribersGroup)) === 0, {
      timeoutMs: 20_000,
      message: 'every entry to be acked',
    });
    const { rows } = await sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM ballots WHERE id = ANY($1::text[])',
      [ids],
    );
    expect(rows[0]?.n).toBe(1_000);
    expect(await findSummaryDrift(sql)).toEqual([]);
  });
});
