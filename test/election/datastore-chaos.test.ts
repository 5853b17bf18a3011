/**
 * The election ingest while what holds its data fails, `agora load election` judging each run
 * (exit 0 only when every acknowledged ballot is stored exactly once): Redis SIGKILLed mid-load
 * and started again on its AOF (the gateway-redis route); Postgres crashed with `pg_ctl stop -m
 * immediate` and started again (both routes, election-api answering 503 meanwhile); and the
 * fault proxy between election-grpc and election-subscriber and Postgres, and between a
 * subscriber and Redis (latency, resets, a blackhole), while their /readyz is polled. Nothing is
 * restarted but the data holder.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { LoadReport } from '../../src/load/report.js';
import { faultsInSeededOrder, proxyBefore, readyzIs } from '../support/backend-faults.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from '../support/backends.js';
import { startOwnPostgres, startOwnRedis } from '../support/data-holders.js';
import { seedBallot } from '../support/election-ingest-world.js';
import {
  type ElectionIngest,
  type IngestBackends,
  startElectionIngest,
} from '../support/election-load-services.js';
import { startLoadRun, throughOutage } from '../support/load-run.js';
import {
  freePort,
  killAll,
  type ManagedProcess,
  startAgora,
  waitFor,
  waitForHttp,
} from '../support/processes.js';
import { seededRandom } from '../support/random.js';

let dir: string;
const cleanUps: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agora-election-datastore-'));
});
afterEach(async () => {
  // The schema and keys go while the data holders still run; then every process.
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
  await killAll();
});
afterAll(async () => {
  await killAll();
});

async function startIngest(backends: IngestBackends): Promise<ElectionIngest> {
  const ingest = await startElectionIngest(
    'eds',
    {
      // Short, so a batch a failed commit left pending comes back within the test's time.
      ELECTION_SUBSCRIBER_RECLAIM_IDLE_MS: '1500',
      LOG_LEVEL: 'error',
    },
    backends,
  );
  cleanUps.push(() => ingest.cleanUp());
  return ingest;
}

/** election-api (the dashboard's reads) over the ingest's schema and key prefix. */
async function startApi(
  ingest: ElectionIngest,
  databaseUrl: string,
): Promise<{ url: string; process: ManagedProcess }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: testRedisUrl,
    DATABASE_URL: databaseUrl,
    AGORA_REDIS_PREFIX: ingest.prefix,
    AGORA_DB_SCHEMA: ingest.schema,
    LOG_LEVEL: 'error',
  };
  const api = startAgora(['run', 'election-api', '--port', String(port)], { env });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/readyz`, { timeoutMs: 30_000 });
  return { url, process: api };
}

/** Starts `agora load election` on `routes`; `finished` has its exit, report and output. */
function startLoad(ingest: ElectionIngest, databaseUrl: string, routes: string, seconds: number) {
  return startLoadRun(dir, [
    'election',
    '--url',
    ingest.gatewayUrl,
    '--grpc-url',
    ingest.grpcAddress,
    '--database-url',
    databaseUrl,
    '--db-schema',
    ingest.schema,
    '--routes',
    routes,
    '--rate',
    '60',
    '--duration',
    `${seconds}s`,
    // A refused ballot is retried, same id.
    '--retries',
    '40',
    '--settle-timeout',
    '40s',
    ...throughOutage,
  ]);
}

async function storedCount(ingest: ElectionIngest): Promise<number> {
  const { rows } = await ingest.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM ballots');
  return rows[0]?.n ?? 0;
}

/** A ballot POSTed to the gateway now, with a deadline: status and error message. */
async function ingestNow(ingest: ElectionIngest, route: 'grpc' | 'redis') {
  const response = await fetch(new URL(`/ingest/${route}`, ingest.gatewayUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(seedBallot({ id: uniqueName('refused') })),
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await response.json()) as { error?: { message?: string } };
  return { status: response.status, message: body.error?.message ?? '' };
}

function expectJudged(outcome: { code: number | null; report: LoadReport; output: string }) {
  expect(outcome.code, outcome.output).toBe(0);
  expect(outcome.report.verification, outcome.output).toMatchObject({
    ok: true,
    differenceCount: 0,
  });
  expect(outcome.report.acknowledged).toBeGreaterThan(0);
  // Every request ended, answered or refused; none was left hanging.
  expect(outcome.report.abandoned).toBe(0);
}

/** Requests the load had to retry: the outage was felt, and outlasted. */
function retries(report: LoadReport): number {
  const byRoute = (report.verification?.expected as { acknowledgedByRoute: object })
    .acknowledgedByRoute as Record<string, { retries: number }>;
  return Object.values(byRoute).reduce((sum, route) => sum + route.retries, 0);
}

describe('the election ingest when its data holders fail', () => {
  it('stores every acknowledged Redis-route ballot once when Redis is SIGKILLed and restarted on its AOF', async () => {
    const redis = await startOwnRedis({ appendfsync: 'everysec' });
    cleanUps.push(() => redis.remove());
    const ingest = await startIngest({ redisUrl: redis.url });
    const load = startLoad(ingest, testDatabaseUrl, 'gateway-redis=1', 8);
    await waitFor(async () => (await storedCount(ingest)) >= 100, {
      timeoutMs: 20_000,
      message: 'a hundred ballots stored before the crash',
    });

    await redis.crash();
    await readyzIs(ingest.readyz['election-gateway'], 503, 'the gateway to say Redis is away');
    await readyzIs(ingest.readyz['election-subscriber'], 503, 'the subscriber to say so');
    await redis.start();
    await readyzIs(ingest.readyz['election-gateway'], 200, 'the gateway to be ready again');
    await readyzIs(ingest.readyz['election-subscriber'], 200, 'the subscriber to be ready again');
    const outcome = await load.finished();
    expectJudged(outcome);
    expect(retries(outcome.report)).toBeGreaterThan(0);
    for (const process of ingest.processes.values()) expect(process.exitStatus()).toBeUndefined();
  }, 90_000);

  it('stores every acknowledged ballot of both routes once when Postgres crashes mid-load', async () => {
    const postgres = await startOwnPostgres();
    cleanUps.push(() => postgres.remove());
    const ingest = await startIngest({ databaseUrl: postgres.url });
    const api = await startApi(ingest, postgres.url);
    const load = startLoad(ingest, postgres.url, 'gateway-grpc=1,gateway-redis=1', 8);
    await waitFor(async () => (await storedCount(ingest)) >= 100, {
      timeoutMs: 20_000,
      message: 'a hundred ballots stored before the crash',
    });

    await postgres.crash();
    await readyzIs(ingest.readyz['election-grpc'], 503, 'election-grpc to say Postgres is away');
    await readyzIs(ingest.readyz['election-subscriber'], 503, 'the subscriber to say so');
    const refused = await waitFor(
      async () => {
        const answer = await ingestNow(ingest, 'grpc');
        return answer.status === 503 && answer;
      },
      { message: 'the gateway to refuse gRPC-route ballots with 503' },
    );
    expect(refused.message).toMatch(/database|unavailable/i);
    // The dashboard's reads: a readable 503 too, not a hang or a 500.
    await readyzIs(`${api.url}/readyz`, 503, 'election-api to say Postgres is away');
    const summary = await waitFor(
      async () => {
        const response = await fetch(`${api.url}/api/summary`, {
          signal: AbortSignal.timeout(5_000),
        });
        return response.status === 503 && ((await response.json()) as { error: object });
      },
      { message: 'election-api to answer 503 while Postgres is away' },
    );
    expect(summary.error).toMatchObject({ code: 'database_unavailable' });

    await postgres.start();
    await readyzIs(ingest.readyz['election-grpc'], 200, 'election-grpc to be ready again');
    await readyzIs(ingest.readyz['election-subscriber'], 200, 'the subscriber to be ready again');
    await readyzIs(`${api.url}/readyz`, 200, 'election-api to be ready again');
    expect((await fetch(`${api.url}/api/summary`)).status).toBe(200);
    const outcome = await load.finished();
    expectJudged(outcome);
    expect(retries(outcome.report)).toBeGreaterThan(0);
    for (const process of ingest.processes.values()) expect(process.exitStatus()).toBeUndefined();
    expect(api.process.exitStatus()).toBeUndefined();
  }, 90_000);

  it("stores every Redis-route ballot once through latency, resets and a blackhole before a subscriber's Redis", async () => {
    const random = seededRandom('election datastore faults Redis');
    const proxy = await proxyBefore(testRedisUrl);
    cleanUps.push(() => proxy.close());
    const ingest = await startIngest({});
    // A second subscriber, the only one whose Redis goes through the proxy.
    const port = await freePort();
    const readyz = `http://127.0.0.1:${port}/readyz`;
    startAgora(['run', 'election-subscriber', '--port', String(port)], {
      env: {
        ...process.env,
        REDIS_URL: proxy.url(testRedisUrl),
        DATABASE_URL: testDatabaseUrl,
        AGORA_REDIS_PREFIX: ingest.prefix,
        AGORA_DB_SCHEMA: ingest.schema,
        ELECTION_SUBSCRIBER_RECLAIM_IDLE_MS: '1500',
        LOG_LEVEL: 'error',
      },
    });
    await waitForHttp(readyz, { timeoutMs: 30_000 });

    const load = startLoad(ingest, testDatabaseUrl, 'gateway-redis=1', 10);
    for (const fault of faultsInSeededOrder(random)) {
      proxy.setFault(fault);
      const status = fault.kind === 'latency' ? 200 : 503;
      await readyzIs(readyz, status, `the subscriber's /readyz to say ${status} (${fault.kind})`);
      proxy.setFault({ kind: 'pass' });
      await readyzIs(readyz, 200, `the subscriber to be ready after ${fault.kind}`);
    }
    expectJudged(await load.finished());
  }, 90_000);

  it('stores every ballot once through latency, resets and a blackhole before Postgres', async () => {
    const random = seededRandom('election datastore faults');
    const proxy = await proxyBefore(testDatabaseUrl);
    cleanUps.push(() => proxy.close());
    const ingest = await startIngest({
      databaseUrl: proxy.url(testDatabaseUrl),
      directDatabaseUrl: testDatabaseUrl,
    });
    const load = startLoad(
      ingest,
      testDatabaseUrl,
      'gateway-grpc=1,gateway-redis=1,grpc-direct=1',
      10,
    );
    for (const fault of faultsInSeededOrder(random)) {
      proxy.setFault(fault);
      for (const service of ['election-grpc', 'election-subscriber'] as const) {
        if (fault.kind === 'latency') {
          await readyzIs(
            ingest.readyz[service],
            200,
            `${service} to stay ready while Postgres is slow`,
          );
        } else {
          await readyzIs(
            ingest.readyz[service],
            503,
            `${service} to say Postgres is away (${fault.kind})`,
          );
        }
      }
      proxy.setFault({ kind: 'pass' });
      for (const service of ['election-grpc', 'election-subscriber'] as const) {
        await readyzIs(ingest.readyz[service], 200, `${service} to be ready after ${fault.kind}`);
      }
    }
    expectJudged(await load.finished());
  }, 90_000);
});
