/**
 * The voting chaos test of issue 3: three worker processes drain 20,000 votes from 5,000
 * voters while workers are SIGKILLed and restarted at random. At the end every voter's row
 * holds their last appended vote, the tally equals a fresh count, and nothing is pending.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { RedisBroker } from '../../src/platform/broker/index.js';
import { PgSql } from '../../src/platform/sql/index.js';
import {
  voteEntry,
  type VoteOption,
  votesStream,
  workersGroup,
} from '../../src/voting/protocol.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from '../support/backends.js';
import {
  freePort,
  killAll,
  type ManagedProcess,
  startAgora,
  waitFor,
  waitForHttp,
} from '../support/processes.js';
import { seededRandom } from '../support/random.js';

const voters = 5_000;
const votes = 20_000;
const chunks = 20;
const kills = 6;

const prefix = `${uniqueName('chaos')}:`;
const schema = uniqueName('chaos');
const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
const sql = new PgSql({ url: testDatabaseUrl, schema });
const admin = new Redis(testRedisUrl);
const workerEnv = {
  ...process.env,
  REDIS_URL: testRedisUrl,
  DATABASE_URL: testDatabaseUrl,
  AGORA_REDIS_PREFIX: prefix,
  AGORA_DB_SCHEMA: schema,
  // Short, so a killed worker's batch comes back within the test's time.
  VOTE_RECLAIM_IDLE_MS: '1500',
  VOTE_BATCH_SIZE: '250',
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
};
const workers: { process: ManagedProcess; url: string }[] = [];

async function startWorker(): Promise<{ process: ManagedProcess; url: string }> {
  const port = await freePort();
  const process = startAgora(['run', 'worker', '--port', String(port)], { env: workerEnv });
  return { process, url: `http://127.0.0.1:${port}` };
}

/** Entries the group has read and acked, from Redis' own bookkeeping (XINFO GROUPS). */
async function groupProgress(): Promise<{ read: number; pending: number }> {
  const groups = (await admin.call('XINFO', 'GROUPS', `${prefix}${votesStream}`)) as unknown[][];
  for (const group of groups) {
    const info = new Map<string, unknown>();
    for (let i = 0; i < group.length; i += 2) info.set(String(group[i]), group[i + 1]);
    if (info.get('name') === workersGroup) {
      return { read: Number(info.get('entries-read')), pending: Number(info.get('pending')) };
    }
  }
  return { read: 0, pending: 0 };
}

/** Entries pending per worker process; consumer names are `<host>-<pid>-<random>`. */
async function heldByPid(): Promise<Map<number, number>> {
  const reply = (await admin.call('XPENDING', `${prefix}${votesStream}`, workersGroup)) as [
    number,
    string | null,
    string | null,
    [string, string][] | null,
  ];
  const held = new Map<number, number>();
  for (const [consumer, count] of reply[3] ?? []) {
    // `<host>-<pid>-<random>`, then `/<n>` per loop when a worker runs several.
    const pid = Number(/-(\d+)-[0-9a-f]+(?:\/\d+)?$/.exec(consumer)?.[1]);
    held.set(pid, (held.get(pid) ?? 0) + Number(count));
  }
  return held;
}

beforeAll(async () => {
  for (let i = 0; i < 3; i++) workers.push(await startWorker());
  await Promise.all(workers.map((worker) => waitForHttp(`${worker.url}/readyz`)));
});

afterAll(async () => {
  await killAll();
  await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await Promise.all([broker.close(), sql.close()]);
  admin.disconnect();
});

it('keeps every voter’s last vote and an exact tally while workers are killed', async () => {
  const random = seededRandom('voting chaos');
  // Every voter votes at least once; the rest are repeat votes by random voters.
  const ballots: { voter: string; vote: VoteOption }[] = [];
  for (let i = 0; i < votes; i++) {
    const voter = `voter-${i < voters ? i : random.below(voters)}`;
    ballots.push({ voter, vote: random.next() < 0.5 ? 'a' : 'b' });
  }
  const last = new Map<string, { id: string; vote: VoteOption }>();
  const chunkSize = votes / chunks;
  const killAfter = new Set(
    Array.from({ length: kills }, (_, k) => Math.floor(((k + 1) * chunks) / (kills + 1))),
  );
  let killed = 0;
  let heldAtKill = 0;

  for (let chunk = 0; chunk < chunks; chunk++) {
    const slice = ballots.slice(chunk * chunkSize, (chunk + 1) * chunkSize);
    const ids = await Promise.all(
      slice.map((ballot) =>
        broker.append(votesStream, voteEntry(ballot.voter, ballot.vote, Date.now())),
      ),
    );
    slice.forEach((ballot, i) => {
      const id = ids[i] ?? '';
      const seen = last.get(ballot.voter);
      if (seen === undefined || compareIds(id, seen.id) > 0) {
        last.set(ballot.voter, { id, vote: ballot.vote });
      }
    });
    if (!killAfter.has(chunk)) continue;
    // Kill while the workers are busy: once they have read part of what was just appended,
    // and preferably one that holds a batch it has not acked yet.
    const appended = (chunk + 1) * chunkSize;
    await waitFor(async () => (await groupProgress()).read > appended - chunkSize / 2, {
      timeoutMs: 20_000,
      message: 'the workers to read the latest votes',
    });
    const holding = await heldByPid();
    const busy = workers.findIndex((worker) => (holding.get(worker.process.pid ?? 0) ?? 0) > 0);
    const slot = busy >= 0 ? busy : random.below(workers.length);
    const victim = workers[slot];
    heldAtKill += holding.get(victim?.process.pid ?? 0) ?? 0;
    victim?.process.kill('SIGKILL');
    await victim?.process.exited;
    workers[slot] = await startWorker();
    killed++;
  }
  expect(killed).toBeGreaterThanOrEqual(5);
  // Killed workers held unacked entries, which the others had to reclaim.
  expect(heldAtKill).toBeGreaterThan(0);

  const drained = await waitFor(
    async () => {
      const progress = await groupProgress();
      return progress.read === votes && progress.pending === 0 && progress;
    },
    {
      timeoutMs: 40_000,
      intervalMs: 200,
      message: () =>
        `every vote read and acked; workers said:\n${workers.map((w) => w.process.output().slice(-2_000)).join('\n')}`,
    },
  );
  expect(drained).toEqual({ read: votes, pending: 0 });
  expect(await broker.pending(votesStream, workersGroup)).toBe(0);

  const { rows } = await sql.query<{ voter_id: string; vote: VoteOption }>(
    'SELECT voter_id, vote FROM votes',
  );
  expect(rows).toHaveLength(voters);
  const wrong = rows.filter((row) => last.get(row.voter_id)?.vote !== row.vote);
  expect(wrong).toEqual([]);

  const tally = await sql.query<{ option: string; votes: string }>(
    'SELECT option, votes FROM vote_tally ORDER BY option',
  );
  const fresh = await sql.query<{ option: string; votes: string }>(
    'SELECT vote AS option, count(*) AS votes FROM votes GROUP BY vote ORDER BY vote',
  );
  expect(tally.rows).toEqual(fresh.rows);
  const expectedA = [...last.values()].filter((ballot) => ballot.vote === 'a').length;
  expect(tally.rows).toEqual([
    { option: 'a', votes: String(expectedA) },
    { option: 'b', votes: String(voters - expectedA) },
  ]);
}, 90_000);

function compareIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}
