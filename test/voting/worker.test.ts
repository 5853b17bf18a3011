/**
 * The worker service in-process, against real Redis + Postgres and against the embedded pair
 * (in-memory broker + PGlite): what reaches the tables, redeliveries, dead letters, the tally
 * notification, and a Postgres that is away at start or in the middle of a batch.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { type Broker, MemoryBroker, RedisBroker } from '../../src/platform/broker/index.js';
import { type RunningService, startService } from '../../src/platform/runtime.js';
import { migrate, PgSql, type Sql } from '../../src/platform/sql/index.js';
import { parseVoteEntry } from '../../src/voting/cast-vote.js';
import { votingMigrations } from '../../src/voting/migrations.js';
import {
  deadLetterStream,
  talliesChannel,
  type Tally,
  voteEntry,
  type VoteOption,
  votesStream,
  workersGroup,
} from '../../src/voting/protocol.js';
import { applyBatch, selectTally } from '../../src/voting/vote-store.js';
import { workerService } from '../../src/voting/worker.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from '../support/backends.js';
import { openPgProxy } from '../support/pg-proxy.js';
import { openMemoryPglite } from '../support/pglite.js';
import { waitFor } from '../support/processes.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const redisAdmin = new Redis(testRedisUrl, { lazyConnect: true });
afterAll(() => {
  redisAdmin.disconnect();
});

interface Pair {
  broker: Broker;
  sql: Sql;
  cleanUp(): Promise<void>;
  /** The Redis key of a stream (prefixed), when the pair is the real one. */
  redisKey?: (name: string) => string;
}

function openRealPair(): Promise<Pair> {
  const prefix = `${uniqueName('worker')}:`;
  const schema = uniqueName('worker');
  const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
  const sql = new PgSql({ url: testDatabaseUrl, schema });
  return Promise.resolve({
    broker,
    sql,
    redisKey: (name) => `${prefix}${name}`,
    cleanUp: async () => {
      await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      const keys = await redisAdmin.keys(`${prefix}*`);
      if (keys.length > 0) await redisAdmin.del(...keys);
    },
  });
}

const pairs: Record<string, () => Promise<Pair>> = {
  'Redis and Postgres': openRealPair,
  'the embedded broker and PGlite': async () => ({
    broker: new MemoryBroker({ keyPrefix: uniqueName('worker') }),
    sql: await openMemoryPglite('voting'),
    cleanUp: () => Promise.resolve(),
  }),
};

const opened: { pair: Pair; services: RunningService[] }[] = [];
afterEach(async () => {
  for (const { pair, services } of opened.splice(0)) {
    await Promise.all(services.map((service) => service.stop()));
    await pair.cleanUp();
    await Promise.all([pair.broker.close(), pair.sql.close()]);
  }
});

async function openPair(open: () => Promise<Pair>) {
  const pair = await open();
  const services: RunningService[] = [];
  opened.push({ pair, services });
  const start = async (env: Record<string, string> = {}, sql: Sql = pair.sql) => {
    const service = await startService(workerService, {
      env: { VOTE_BLOCK_MS: '50', ...env },
      logger,
      backends: { broker: pair.broker, sql, describe: () => [], close: () => Promise.resolve() },
      host: '127.0.0.1',
      port: 0,
    });
    services.push(service);
    return service;
  };
  const tallyIs = (counts: Record<VoteOption, number>) =>
    waitFor(
      async () => {
        const tally = await selectTally(pair.sql);
        return tally.counts.a === counts.a && tally.counts.b === counts.b ? tally : undefined;
      },
      { timeoutMs: 10_000, message: `the tally to become ${JSON.stringify(counts)}` },
    );
  const vote = (voterId: string, option: VoteOption) =>
    pair.broker.append(votesStream, voteEntry(voterId, option, Date.now()));
  const storedVotes = async () =>
    (await pair.sql.query('SELECT voter_id, vote FROM votes ORDER BY voter_id')).rows;
  return { ...pair, start, tallyIs, vote, storedVotes };
}

for (const [name, open] of Object.entries(pairs)) {
  describe(`the worker with ${name}`, () => {
    it('moves appended votes into votes and vote_tally, then publishes the tally', async () => {
      const world = await openPair(open);
      const notified: Tally[] = [];
      const unsubscribe = await world.broker.subscribe(talliesChannel, (message) => {
        notified.push(JSON.parse(message) as Tally);
      });
      await world.start();
      await world.vote('v1', 'a');
      await world.vote('v2', 'b');
      await world.vote('v3', 'a');
      const last = await waitFor(() => notified.find((tally) => tally.total === 3), {
        message: 'a tally notification counting 3 votes',
      });
      expect(last).toEqual({ counts: { a: 2, b: 1 }, total: 3 });
      // Published after the commit: the rows are there when the notification arrives.
      expect(await world.storedVotes()).toEqual([
        { voter_id: 'v1', vote: 'a' },
        { voter_id: 'v2', vote: 'b' },
        { voter_id: 'v3', vote: 'a' },
      ]);
      await unsubscribe();
    });

    it('deletes the votes it has committed and acked from the stream', async () => {
      const world = await openPair(open);
      for (let n = 0; n < 5; n++) await world.vote(`v${n}`, 'a');
      expect(await world.broker.streamLength(votesStream)).toBe(5);
      await world.start();
      await world.tallyIs({ a: 5, b: 0 });
      await waitFor(async () => (await world.broker.streamLength(votesStream)) === 0, {
        message: 'the acked votes to be trimmed from the stream',
      });
      expect(await world.broker.pending(votesStream, workersGroup)).toBe(0);
    });

    it('a changed vote moves one count; a repeated identical vote changes nothing', async () => {
      const world = await openPair(open);
      await world.start();
      await world.vote('v1', 'a');
      await world.vote('v2', 'a');
      await world.tallyIs({ a: 2, b: 0 });
      await world.vote('v1', 'b');
      await world.tallyIs({ a: 1, b: 1 });
      await world.vote('v2', 'a');
      await world.vote('v3', 'b');
      await world.tallyIs({ a: 1, b: 2 });
      expect(await world.storedVotes()).toEqual([
        { voter_id: 'v1', vote: 'b' },
        { voter_id: 'v2', vote: 'a' },
        { voter_id: 'v3', vote: 'b' },
      ]);
    });

    it('counts once an entry committed by a worker that died before acking it', async () => {
      const world = await openPair(open);
      await migrate(world.sql, 'voting', votingMigrations);
      await world.broker.ensureGroup(votesStream, workersGroup);
      await world.vote('v1', 'a');
      await world.vote('v2', 'b');
      // A worker that read both, committed them and died before its ack.
      const read = await world.broker.readGroup(votesStream, workersGroup, 'dead-worker', {
        count: 10,
        blockMs: 0,
      });
      const votes = read.flatMap((entry) => {
        const parsed = parseVoteEntry(entry);
        return parsed.ok ? [parsed.item] : [];
      });
      await applyBatch(world.sql, votes);
      await applyBatch(world.sql, votes);

      await world.start({ VOTE_RECLAIM_IDLE_MS: '100' });
      await waitFor(async () => (await world.broker.pending(votesStream, workersGroup)) === 0, {
        message: 'the dead worker’s entries to be reclaimed and acked',
      });
      expect(await selectTally(world.sql)).toEqual({ counts: { a: 1, b: 1 }, total: 2 });
      expect(await world.storedVotes()).toHaveLength(2);
    });

    it('takes the first-time-voter fast path only when every voter is new, else the full one', async () => {
      const world = await openPair(open);
      await migrate(world.sql, 'voting', votingMigrations);
      const cast = (voterId: string, vote: VoteOption, seq: number) => ({
        entryId: `1000-${seq}`,
        voterId,
        vote,
        streamMs: 1000n,
        streamSeq: BigInt(seq),
      });
      const hint = { firstTimeVoters: true };
      const first = await applyBatch(world.sql, [cast('v1', 'a', 1), cast('v2', 'b', 2)], hint);
      expect(first).toEqual({
        written: 2,
        tally: { counts: { a: 1, b: 1 }, total: 2 },
        firstTimeVoters: true,
      });
      // v2 is stored: the one-statement insert fails whole, and the full path applies it all.
      const second = [cast('v2', 'a', 3), cast('v3', 'a', 4)];
      expect(await applyBatch(world.sql, second, hint)).toEqual({
        written: 2,
        tally: { counts: { a: 3, b: 0 }, total: 3 },
        firstTimeVoters: false,
      });
      // Redelivered with the hint still set: nothing moves.
      expect(await applyBatch(world.sql, second, hint)).toMatchObject({
        written: 0,
        tally: { counts: { a: 3, b: 0 }, total: 3 },
      });
      expect(await world.storedVotes()).toEqual([
        { voter_id: 'v1', vote: 'a' },
        { voter_id: 'v2', vote: 'a' },
        { voter_id: 'v3', vote: 'a' },
      ]);
    });

    it('sends an unparseable entry to the dead-letter stream with its reason and acks it', async () => {
      const world = await openPair(open);
      const service = await world.start();
      const badId = await world.broker.append(votesStream, { voter_id: 'v1', vote: 'maybe' });
      await world.vote('v2', 'b');
      await world.tallyIs({ a: 0, b: 1 });
      await waitFor(async () => (await world.broker.pending(votesStream, workersGroup)) === 0);

      await world.broker.ensureGroup(deadLetterStream, 'inspect');
      const dead = await world.broker.readGroup(deadLetterStream, 'inspect', 'test', {
        count: 10,
        blockMs: 0,
      });
      expect(dead.map((entry) => entry.fields)).toEqual([
        {
          reason: 'vote "maybe" is not an option',
          entry_id: badId,
          fields: JSON.stringify({ voter_id: 'v1', vote: 'maybe' }),
        },
      ]);
      const metrics = await (await fetch(`${service.healthUrl}/metrics`)).text();
      expect(metrics).toMatch(/^voting_dead_letters_total\{[^}]*\} 1$/m);
    });
  });
}

describe('the worker when Postgres is away', () => {
  it('waits with the votes in the stream, says so on /readyz, and applies them once it is back', async () => {
    const proxy = await openPgProxy(testDatabaseUrl);
    const world = await openPair(openRealPair);
    const viaProxy = new PgSql({ url: proxy.url, schema: world.sql.schema });
    try {
      await world.vote('v1', 'a');
      const service = await world.start({ VOTE_RECLAIM_IDLE_MS: '600000' }, viaProxy);
      const waiting = await waitFor(async () => {
        const response = await fetch(`${service.url}/readyz`);
        const body = (await response.json()) as { checks: Record<string, string> };
        return response.status === 503 && /database/.test(body.checks.schema ?? '') && body;
      });
      expect(waiting.checks.schema).toMatch(/database/);
      expect(await world.broker.streamLength(votesStream)).toBe(1);

      proxy.resume();
      await world.tallyIs({ a: 1, b: 0 });

      // Postgres goes away with a batch in hand: the worker keeps it and retries it itself,
      // long before another worker could reclaim it (the idle threshold here is 10 minutes).
      proxy.cut();
      await world.vote('v1', 'b');
      await world.vote('v2', 'b');
      await waitFor(async () => (await world.broker.pending(votesStream, workersGroup)) > 0, {
        message: 'the worker to hold the batch it could not commit',
      });
      proxy.resume();
      await world.tallyIs({ a: 0, b: 2 });
      await waitFor(async () => (await world.broker.pending(votesStream, workersGroup)) === 0);
    } finally {
      for (const service of opened.at(-1)?.services.splice(0) ?? []) await service.stop();
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('stops promptly while Postgres is away, leaving its batch pending for another worker', async () => {
    const proxy = await openPgProxy(testDatabaseUrl);
    const world = await openPair(openRealPair);
    const viaProxy = new PgSql({ url: proxy.url, schema: world.sql.schema });
    try {
      proxy.resume();
      const service = await world.start({ VOTE_RECLAIM_IDLE_MS: '600000' }, viaProxy);
      await waitForReady(service.url);
      proxy.cut();
      await world.vote('v1', 'a');
      await waitFor(async () => (await world.broker.pending(votesStream, workersGroup)) === 1);

      const started = Date.now();
      await opened.at(-1)?.services.pop()?.stop();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await world.broker.pending(votesStream, workersGroup)).toBe(1);
      expect(await world.storedVotes()).toEqual([]);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });
});

function waitForReady(url: string): Promise<boolean> {
  return waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, {
    message: `${url}/readyz to answer 200`,
  });
}

describe('the worker with several batches in flight (Redis and Postgres)', () => {
  it('runs VOTE_CONCURRENCY consumers in the group that together store every vote once', async () => {
    const world = await openPair(openRealPair);
    await world.start({ VOTE_CONCURRENCY: '3', VOTE_BATCH_SIZE: '10' });
    await Promise.all(
      Array.from({ length: 300 }, (_, n) => world.vote(`v${n}`, n % 3 === 0 ? 'b' : 'a')),
    );
    await world.tallyIs({ a: 200, b: 100 });
    expect(await world.storedVotes()).toHaveLength(300);

    const stream = world.redisKey?.(votesStream) ?? '';
    // Each consumer is `[ 'name', <name>, 'pending', <n>, ... ]`.
    const consumers = (await redisAdmin.call(
      'XINFO',
      'CONSUMERS',
      stream,
      workersGroup,
    )) as unknown[][];
    const names = consumers.map((consumer) => String(consumer[1])).sort();
    expect(names).toHaveLength(3);
    expect(names.map((name) => name.slice(-2))).toEqual(['/1', '/2', '/3']);
    expect(new Set(names.map((name) => name.slice(0, -2))).size).toBe(1);
  });
});
