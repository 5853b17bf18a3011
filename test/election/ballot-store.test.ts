/**
 * storeBallots against real Postgres and Redis (and PGlite with the in-memory broker): each
 * ballot stored once whatever is retried, summaries equal to a fresh aggregate, the recent list
 * and the notification, and a broker that is gone after the commit.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import type { Ballot } from '../../src/election/ballot.js';
import {
  BallotConflictError,
  findSummaryDrift,
  groupedBallotStore,
  storeBallots,
} from '../../src/election/ballot-store.js';
import { electionMigrations } from '../../src/election/migrations.js';
import {
  electionSystem,
  type RecentBallot,
  recentBallotsKey,
  storedChannel,
} from '../../src/election/protocol.js';
import { type Broker, MemoryBroker, RedisBroker } from '../../src/platform/broker/index.js';
import { migrate, PgliteSql, PgSql, type Sql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from '../support/backends.js';
import { waitFor } from '../support/processes.js';

const redisAdmin = new Redis(testRedisUrl, { lazyConnect: true });
afterAll(() => {
  redisAdmin.disconnect();
});

interface Pair {
  broker: Broker;
  sql: Sql;
  /** Removes what the test wrote and closes what is not shared. */
  cleanUp(): Promise<void>;
}

const opened: Pair[] = [];
afterEach(async () => {
  for (const pair of opened.splice(0)) await pair.cleanUp();
});

/** One PGlite for the file: starting one takes seconds on a busy machine. */
let pglite: Promise<PgliteSql> | undefined;
afterAll(async () => {
  await (await pglite)?.close();
});

const pairs: Record<string, () => Promise<Pair>> = {
  'Redis and Postgres': () => {
    const prefix = `${uniqueName('store')}:`;
    const schema = uniqueName('store');
    const sql = new PgSql({ url: testDatabaseUrl, schema });
    const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
    return Promise.resolve({
      broker,
      sql,
      cleanUp: async () => {
        await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        const keys = await redisAdmin.keys(`${prefix}*`);
        if (keys.length > 0) await redisAdmin.del(...keys);
        await Promise.all([broker.close(), sql.close()]);
      },
    });
  },
  'the embedded broker and PGlite': async () => {
    pglite ??= PgliteSql.open({ schema: 'election' });
    const sql = await pglite;
    const broker = new MemoryBroker({ keyPrefix: uniqueName('store') });
    return {
      broker,
      sql,
      cleanUp: async () => {
        // search_path names the schema, so a fresh one of the same name is empty and in use.
        await sql.query('DROP SCHEMA election CASCADE; CREATE SCHEMA election');
        await broker.close();
      },
    };
  },
};

async function open(openPair: () => Promise<Pair>): Promise<Pair> {
  const pair = await openPair();
  opened.push(pair);
  await migrate(pair.sql, electionSystem, electionMigrations);
  return pair;
}

function ballot(id: string, overrides: Partial<Ballot> = {}): Ballot {
  return {
    id,
    sede: `sede-${Number(id.replace(/\D/g, '')) % 3}`,
    municipio: 'Mixco',
    departamento: 'Guatemala',
    papeleta: 'presidente',
    partido: ['UNE', 'VAMOS', 'SEMILLA'][Number(id.replace(/\D/g, '')) % 3] ?? 'UNE',
    ...overrides,
  };
}

async function count(sql: Sql, text: string): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(text);
  return rows[0]?.n ?? -1;
}

describe.each(Object.entries(pairs))('storeBallots with %s', (_name, openPair) => {
  it('stores new ballots once, reports retries and in-batch repeats as duplicates', async () => {
    const { sql, broker } = await open(openPair);
    const first = await storeBallots(
      sql,
      broker,
      [ballot('b1'), ballot('b2'), ballot('b1')],
      'grpc',
    );
    expect(first).toEqual({ stored: ['b1', 'b2'], duplicates: ['b1'] });
    const again = await storeBallots(sql, broker, [ballot('b2'), ballot('b3')], 'redis');
    expect(again).toEqual({ stored: ['b3'], duplicates: ['b2'] });
    expect(await count(sql, 'SELECT count(*)::int AS n FROM ballots')).toBe(3);
    const { rows } = await sql.query<{ route: string; ballots: number }>(
      'SELECT route, sum(ballots)::int AS ballots FROM ballots_by_route GROUP BY route ORDER BY route',
    );
    expect(rows).toEqual([
      { route: 'grpc', ballots: 2 },
      { route: 'redis', ballots: 1 },
    ]);
    expect(await findSummaryDrift(sql)).toEqual([]);
  });

  it('stores the concurrent casts of one turn together, each answered as if alone and in order', async () => {
    const { sql, broker } = await open(openPair);
    await storeBallots(sql, broker, [ballot('g0')], 'grpc');
    const cast = groupedBallotStore(sql, broker, 'grpc');
    const ids = ['g0', 'g1', 'g2', 'g1', 'g3', 'g2'];
    const results = await Promise.all(ids.map((id) => cast([ballot(id)])));
    expect(results.map((result) => result.stored.length)).toEqual([0, 1, 1, 0, 1, 0]);
    expect(await count(sql, 'SELECT count(*)::int AS n FROM ballots')).toBe(4);
    expect(await findSummaryDrift(sql)).toEqual([]);
    const recent = await broker.recent(recentBallotsKey, 10);
    expect(recent.map((entry) => (JSON.parse(entry) as RecentBallot).id).sort()).toEqual([
      'g0',
      'g1',
      'g2',
      'g3',
    ]);
  });

  it('loads first-time ballots by COPY and falls back to the idempotent insert for a known one', async () => {
    const { sql, broker } = await open(openPair);
    const first = await storeBallots(sql, broker, [ballot('f1'), ballot('f2')], 'redis', {
      firstTime: true,
    });
    expect(first).toEqual({ stored: ['f1', 'f2'], duplicates: [] });
    const again = await storeBallots(sql, broker, [ballot('f2'), ballot('f3')], 'redis', {
      firstTime: true,
    });
    expect(again).toEqual({ stored: ['f3'], duplicates: ['f2'] });
    expect(await count(sql, 'SELECT count(*)::int AS n FROM ballots')).toBe(3);
    expect(await findSummaryDrift(sql)).toEqual([]);
  });

  it('keeps summaries equal to a fresh aggregate under concurrent overlapping batches', async () => {
    const { sql, broker } = await open(openPair);
    const all = Array.from({ length: 300 }, (_, i) =>
      ballot(`c${i}`, { departamento: `d${i % 4}`, municipio: `m${i % 7}` }),
    );
    // Overlapping slices in different orders, as retries across routes would send them.
    const batches = [all.slice(0, 200), all.slice(100, 300).reverse(), all.slice(50, 250)];
    const results = await Promise.all(
      batches.map((batch, i) => storeBallots(sql, broker, batch, i % 2 === 0 ? 'grpc' : 'redis')),
    );
    const stored = results.flatMap((result) => result.stored);
    expect(new Set(stored).size).toBe(300);
    expect(stored).toHaveLength(300);
    expect(await count(sql, 'SELECT count(*)::int AS n FROM ballots')).toBe(300);
    expect(await findSummaryDrift(sql)).toEqual([]);
  });

  it.each([
    ['by the insert', false],
    ['by COPY', true],
  ])(
    'stored %s, pushes the newest five to the recent list and notifies after the commit',
    async (_how, firstTime) => {
      const { sql, broker } = await open(openPair);
      const notes: string[] = [];
      const unsubscribe = await broker.subscribe(storedChannel, (message) => notes.push(message));
      await storeBallots(
        sql,
        broker,
        Array.from({ length: 7 }, (_, i) => ballot(`r${i}`)),
        'redis',
        { firstTime },
      );
      const recent = (await broker.recent(recentBallotsKey, 10)).map(
        (item) => JSON.parse(item) as RecentBallot,
      );
      expect(recent.map((item) => item.id)).toEqual(['r6', 'r5', 'r4', 'r3', 'r2']);
      expect(recent[0]).toMatchObject({ route: 'redis', municipio: 'Mixco' });
      expect(Date.parse(recent[0]?.receivedAt ?? '')).not.toBeNaN();
      await waitFor(() => notes.length > 0);
      expect(JSON.parse(notes[0] ?? '')).toEqual({ route: 'redis', stored: 7 });
      await unsubscribe();
    },
  );

  it('refuses a known id with other fields, storing nothing of the call; skip keeps the first', async () => {
    const { sql, broker } = await open(openPair);
    await storeBallots(sql, broker, [ballot('k1')], 'grpc');
    const forged = ballot('k1', { partido: 'OTHER' });
    await expect(storeBallots(sql, broker, [ballot('k2'), forged], 'grpc')).rejects.toBeInstanceOf(
      BallotConflictError,
    );
    await expect(
      storeBallots(sql, broker, [ballot('k3'), ballot('k3', { sede: 'x' })], 'grpc'),
    ).rejects.toMatchObject({ status: 409, ids: ['k3'] });
    const cast = groupedBallotStore(sql, broker, 'grpc');
    const [honest, conflicting] = await Promise.allSettled([cast([ballot('k4')]), cast([forged])]);
    expect(honest).toMatchObject({ status: 'fulfilled', value: { stored: ['k4'] } });
    expect(conflicting).toMatchObject({ status: 'rejected', reason: { code: 'ballot_conflict' } });
    expect(await count(sql, 'SELECT count(*)::int AS n FROM ballots')).toBe(2);
    const skipped = await storeBallots(sql, broker, [forged, ballot('k5')], 'redis', {
      onConflict: 'skip',
    });
    expect(skipped).toEqual({ stored: ['k5'], duplicates: ['k1'] });
    const { rows } = await sql.query<{ partido: string }>(
      "SELECT partido FROM ballots WHERE id = 'k1'",
    );
    expect(rows).toEqual([{ partido: ballot('k1').partido }]);
    expect(await findSummaryDrift(sql)).toEqual([]);
  });

  it('does not fail a committed write when the broker is gone', async () => {
    const { sql, broker } = await open(openPair);
    await broker.close();
    const result = await storeBallots(sql, broker, [ballot('g1')], 'grpc');
    expect(result.stored).toEqual(['g1']);
  });
});

describe('storeBallots with Postgres away', () => {
  it('rejects with SqlUnavailableError and stores nothing', async () => {
    const sql = new PgSql({ url: 'postgres://postgres@127.0.0.1:1/test', schema: 'x' });
    const broker = new MemoryBroker({ keyPrefix: uniqueName('store') });
    await expect(storeBallots(sql, broker, [ballot('u1')], 'grpc')).rejects.toMatchObject({
      code: 'database_unavailable',
    });
    await Promise.all([sql.close(), broker.close()]);
  });
});
