/**
 * Part (b) of the voting benchmark: one worker drains a `votes` stream pre-filled with votes of
 * distinct voters into an empty table, beside psql's `\copy` loading the same rows into an
 * empty copy of that table.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';

import { votesStream, workersGroup } from '../../src/voting/protocol.js';
import { progress } from '../support/benchmark.js';
import { checkpoint } from '../support/checkpoint.js';
import { watchAcks } from '../support/drain-watch.js';
import { type Memory, readCpuMs, readMemory } from '../support/report.js';
import { backendsCpuMs, difference, redisCpuMs } from '../support/server-cpu.js';
import type { VotingLab } from './services.js';

const run = promisify(execFile);

export interface DrainSettings {
  votes: number;
  batchSize: number;
  concurrency: number;
  /** When set, the worker runs with `--cpu-prof` and writes its profile here. */
  cpuProfileDir?: string;
}

export interface DrainResult {
  votes: number;
  batchSize: number;
  concurrency: number;
  /** Votes/s from the first acked batch to the last (process start-up excluded). */
  workerRate: number;
  workerSeconds: number;
  /** Acked when the worker stopped: equals `votes` unless it stalled. */
  acked: number;
  rowsStored: number;
  tallyTotal: number;
  workerMemory: Memory | undefined;
  /** From the worker's own metrics: how much of its time went to the Postgres transactions. */
  transactions: TransactionTime | undefined;
  /**
   * CPU time per stored row, in µs, from /proc (Linux): of the worker from ready to drained,
   * and of its Postgres backends; Redis's from its own `INFO cpu` over the same time (the
   * whole server, so the benchmark's own polling counts too). On a shared machine these move
   * less than the rates.
   */
  cpuPerRow:
    { worker: number; postgres: number | undefined; redis: number | undefined } | undefined;
  copy: { rate: number; seconds: number; rows: number } | { skipped: string };
}

const fillChunk = 10_000;

const voterOf = (i: number) => `bench-${i}`;
const optionOf = (i: number) => (i % 3 === 0 ? 'b' : 'a');

export async function measureDrain(lab: VotingLab, settings: DrainSettings): Promise<DrainResult> {
  const namespace = lab.namespace('drain');
  const stream = `${namespace.prefix}${votesStream}`;
  // Explicit ids `<ms>-<i+1>` so the COPY rows carry the same stream positions as the entries.
  const streamMs = Date.now();
  await prefill(lab, stream, settings.votes, streamMs);

  await checkpoint(lab.sql, 'the worker');
  const watching = watchAcks(lab.redis, {
    stream,
    group: workersGroup,
    entries: settings.votes,
    consumer: 'worker',
  });
  // Names the worker's Postgres sessions, so their backends' CPU can be read.
  const applicationName = `agora-bench-${namespace.schema}`;
  const worker = await lab.start('worker', namespace, {
    env: {
      VOTE_BATCH_SIZE: String(settings.batchSize),
      VOTE_CONCURRENCY: String(settings.concurrency),
      PGAPPNAME: applicationName,
    },
    nodeArgs:
      settings.cpuProfileDir === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`],
  });
  let drained: Awaited<typeof watching>;
  let workerMemory: Memory | undefined;
  let transactions: TransactionTime | undefined;
  let cpu: { worker: number | undefined; postgres: number | undefined; redis: number | undefined };
  const workerCpuAtReady = readCpuMs(worker.pid);
  const redisCpuAtReady = await redisCpuMs(lab.redis);
  try {
    drained = await watching;
    const workerCpu = readCpuMs(worker.pid);
    cpu = {
      worker:
        workerCpu === undefined || workerCpuAtReady === undefined
          ? undefined
          : workerCpu - workerCpuAtReady,
      postgres: await backendsCpuMs(lab.sql, applicationName),
      redis: difference(await redisCpuMs(lab.redis), redisCpuAtReady),
    };
    workerMemory = readMemory(worker.pid);
    transactions = await transactionTime(new URL('/metrics', worker.url));
  } finally {
    await worker.stop();
  }

  const table = `${pg.escapeIdentifier(namespace.schema)}.votes`;
  const { rows } = await lab.sql.query<{ rows: string; tally: string }>(
    `SELECT (SELECT count(*) FROM ${table}) AS rows,
            (SELECT coalesce(sum(votes), 0) FROM ${pg.escapeIdentifier(namespace.schema)}.vote_tally) AS tally`,
  );
  await lab.clearKeys(namespace);

  return {
    votes: settings.votes,
    batchSize: settings.batchSize,
    concurrency: settings.concurrency,
    workerRate: drained.rate,
    workerSeconds: drained.seconds,
    acked: drained.acked,
    rowsStored: Number(rows[0]?.rows ?? 0),
    tallyTotal: Number(rows[0]?.tally ?? 0),
    workerMemory,
    transactions,
    cpuPerRow:
      cpu.worker === undefined
        ? undefined
        : {
            worker: (1000 * cpu.worker) / settings.votes,
            postgres:
              cpu.postgres === undefined ? undefined : (1000 * cpu.postgres) / settings.votes,
            redis: cpu.redis === undefined ? undefined : (1000 * cpu.redis) / settings.votes,
          },
    copy: await measureCopy(lab, namespace.schema, settings.votes, streamMs),
  };
}

/** XADDs pipelined in chunks: a million entries take seconds, not minutes. */
async function prefill(lab: VotingLab, stream: string, votes: number, streamMs: number) {
  progress(`pre-filling ${stream} with ${votes.toLocaleString('en-US')} votes`);
  for (let start = 0; start < votes; start += fillChunk) {
    const pipeline = lab.redis.pipeline();
    for (let i = start; i < Math.min(votes, start + fillChunk); i++) {
      pipeline.xadd(
        stream,
        `${streamMs}-${i + 1}`,
        'voter_id',
        voterOf(i),
        'vote',
        optionOf(i),
        'cast_at',
        String(streamMs),
      );
    }
    const results = (await pipeline.exec()) ?? [];
    const failure = results.find(([error]) => error !== null)?.[0];
    if (failure) throw failure;
  }
}

export interface TransactionTime {
  batches: number;
  seconds: number;
}

/** The worker's `voting_batch_duration_seconds` histogram: batches and their total time. */
async function transactionTime(metrics: URL): Promise<TransactionTime | undefined> {
  try {
    const text = await (await fetch(metrics)).text();
    const value = (name: string) =>
      Number(
        new RegExp(
          `^voting_batch_duration_seconds_${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`,
          'm',
        ).exec(text)?.[1],
      );
    const figures = { batches: value('count'), seconds: value('sum') };
    return Number.isNaN(figures.batches) || Number.isNaN(figures.seconds) ? undefined : figures;
  } catch {
    return undefined;
  }
}

/**
 * The same rows through `COPY ... FROM STDIN` into an empty table shaped like `votes` (primary
 * key and checks included). node-postgres cannot stream COPY without pg-copy-streams, so this
 * runs psql's `\copy`; the time includes psql's start-up (milliseconds).
 */
async function measureCopy(lab: VotingLab, schema: string, votes: number, streamMs: number) {
  const dir = await mkdtemp(join(tmpdir(), 'agora-bench-copy-'));
  try {
    const file = join(dir, 'votes.tsv');
    const lines: string[] = [];
    for (let i = 0; i < votes; i++)
      lines.push(`${voterOf(i)}\t${optionOf(i)}\t${streamMs}\t${i + 1}\n`);
    await writeFile(file, lines.join(''));
    const table = `${pg.escapeIdentifier(schema)}.votes_copy`;
    await lab.sql.query(
      `CREATE TABLE ${table} (LIKE ${pg.escapeIdentifier(schema)}.votes INCLUDING ALL)`,
    );
    await checkpoint(lab.sql, 'COPY');
    progress(`loading the same ${votes.toLocaleString('en-US')} rows with psql \\copy`);
    const started = performance.now();
    try {
      await run('psql', [
        lab.databaseUrl,
        '--no-psqlrc',
        '--quiet',
        '--set=ON_ERROR_STOP=1',
        '--command',
        `\\copy ${table} (voter_id, vote, stream_ms, stream_seq) FROM '${file}'`,
      ]);
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
        return { skipped: 'psql is not installed (apt-get install postgresql-client)' };
      }
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await lab.sql.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${table}`);
    return { rate: votes / seconds, seconds, rows: Number(rows[0]?.rows ?? 0) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
