/**
 * Part (b) of the election benchmark: one election-subscriber drains a `ballots` stream
 * pre-filled with distinct ballots into an empty schema (ballots plus the four summary tables,
 * in one transaction per batch), beside psql's `\copy` of the same rows into an empty copy of
 * the `ballots` table alone. Prints nothing itself: `formatElectionDrain` gives the table.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Redis } from 'ioredis';
import pg from 'pg';

import type { Ballot } from '../../src/election/ballot.js';
import { ballotEntryField, ballotsStream, subscribersGroup } from '../../src/election/protocol.js';
import { formatTable } from '../../src/platform/table.js';
import { progress } from '../support/benchmark.js';
import { checkpoint } from '../support/checkpoint.js';
import { watchAcks } from '../support/drain-watch.js';
import { type Memory, readCpuMs, readMemory } from '../support/report.js';
import { backendsCpuMs, difference, redisCpuMs } from '../support/server-cpu.js';
import { agoraCli, freePort, startServer } from '../support/server-process.js';

const run = promisify(execFile);

export interface ElectionDrainSettings {
  /** Entries pre-filled in the stream (default 200,000). */
  ballots?: number;
  /** ELECTION_SUBSCRIBER_BATCH_SIZE of the draining subscriber (default 4,000, the service's). */
  batchSize?: number;
  redisUrl?: string;
  databaseUrl?: string;
}

export interface ElectionDrainResult {
  ballots: number;
  batchSize: number;
  /** Ballots/s from the first acked batch to the last (process start-up excluded). */
  subscriberRate: number;
  subscriberSeconds: number;
  /** Acked when the subscriber stopped: equals `ballots` unless it stalled. */
  acked: number;
  rowsStored: number;
  /** Sum of `ballots_by_route`: equals `rowsStored` when the summaries kept up. */
  summaryTotal: number;
  subscriberMemory: Memory | undefined;
  /**
   * The subscriber's CPU time (user + system, from /proc) from ready to drained, per ballot:
   * what a busy machine does not change as much as the rate.
   */
  subscriberCpuMicrosPerBallot: number | undefined;
  /** The same for its Postgres backends and for the Redis server (all of it, polling included). */
  postgresCpuMicrosPerBallot: number | undefined;
  redisCpuMicrosPerBallot: number | undefined;
  copy: { rate: number; seconds: number; rows: number } | { skipped: string };
}

const fillChunk = 10_000;

const papeletas = ['presidente', 'diputados', 'alcalde'];
const partidos = ['UNE', 'VAMOS', 'SEMILLA', 'VALOR', 'CABAL', 'TODOS', 'UR', 'BIEN'];

/** Distinct, varied ballots: 22 departments, a few hundred municipalities and sedes. */
function ballotOf(i: number): Ballot {
  return {
    id: `drain-${i}`,
    sede: `Escuela ${i % 2_000}`,
    municipio: `Municipio ${i % 340}`,
    departamento: `Departamento ${i % 22}`,
    papeleta: papeletas[i % papeletas.length] ?? 'presidente',
    partido: partidos[(i * 7) % partidos.length] ?? 'UNE',
  };
}

/** Pre-fills, drains with one subscriber process, then COPYs the same rows; cleans up after. */
export async function measureElectionDrain(
  settings: ElectionDrainSettings = {},
): Promise<ElectionDrainResult> {
  const ballots = settings.ballots ?? 200_000;
  const batchSize = settings.batchSize ?? 4_000;
  const redisUrl = settings.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const databaseUrl =
    settings.databaseUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = randomBytes(4).toString('hex');
  const prefix = `agora-bench-election-drain-${name}:`;
  const schema = `bench_election_drain_${name}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const sql = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    await prefill(redis, `${prefix}${ballotsStream}`, ballots);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    progress(`starting election-subscriber on ${base} (batch ${batchSize})`);
    await checkpoint(sql, 'the subscriber');
    const watching = watchAcks(redis, {
      stream: `${prefix}${ballotsStream}`,
      group: subscribersGroup,
      entries: ballots,
      consumer: 'subscriber',
    });
    const subscriber = await startServer('election-subscriber', {
      args: [agoraCli, 'run', 'election-subscriber', '--port', String(port)],
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        DATABASE_URL: databaseUrl,
        AGORA_REDIS_PREFIX: prefix,
        AGORA_DB_SCHEMA: schema,
        ELECTION_SUBSCRIBER_BATCH_SIZE: String(batchSize),
        // Names its Postgres sessions, so their backends' CPU can be read.
        PGAPPNAME: `agora-bench-${schema}`,
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
      },
      url: `${base}/`,
      readyUrl: `${base}/readyz`,
    });
    let drained: Awaited<typeof watching>;
    let subscriberMemory: Memory | undefined;
    let cpuMs: number | undefined;
    let postgresCpuMs: number | undefined;
    let redisCpu: number | undefined;
    const cpuAtReady = readCpuMs(subscriber.pid);
    const redisCpuAtReady = await redisCpuMs(redis);
    try {
      drained = await watching;
      subscriberMemory = readMemory(subscriber.pid);
      cpuMs = difference(readCpuMs(subscriber.pid), cpuAtReady);
      // From their start: the migrations before ready count too, a few milliseconds.
      postgresCpuMs = await backendsCpuMs(sql, `agora-bench-${schema}`);
      redisCpu = difference(await redisCpuMs(redis), redisCpuAtReady);
    } finally {
      await subscriber.stop();
    }
    const quoted = pg.escapeIdentifier(schema);
    const { rows } = await sql.query<{ rows: string; summary: string }>(
      `SELECT (SELECT count(*) FROM ${quoted}.ballots) AS rows,
              (SELECT coalesce(sum(ballots), 0) FROM ${quoted}.ballots_by_route) AS summary`,
    );
    await clearKeys(redis, prefix);
    return {
      ballots,
      batchSize,
      subscriberRate: drained.rate,
      subscriberSeconds: drained.seconds,
      acked: drained.acked,
      rowsStored: Number(rows[0]?.rows ?? 0),
      summaryTotal: Number(rows[0]?.summary ?? 0),
      subscriberMemory,
      subscriberCpuMicrosPerBallot: cpuMs === undefined ? undefined : (cpuMs * 1e3) / ballots,
      postgresCpuMicrosPerBallot:
        postgresCpuMs === undefined ? undefined : (postgresCpuMs * 1e3) / ballots,
      redisCpuMicrosPerBallot: redisCpu === undefined ? undefined : (redisCpu * 1e3) / ballots,
      copy: await measureCopy(sql, databaseUrl, schema, ballots),
    };
  } finally {
    await clearKeys(redis, prefix).catch(() => undefined);
    await sql.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    redis.disconnect();
    await sql.end();
  }
}

/** The figures as a table, with the consistency check on the last line. */
export function formatElectionDrain(result: ElectionDrainResult): string {
  const count = (n: number) => Math.round(n).toLocaleString('en-US');
  const copyRate = 'skipped' in result.copy ? undefined : result.copy.rate;
  const rows = [
    [
      `subscriber (batch ${count(result.batchSize)})`,
      count(result.subscriberRate),
      `${result.subscriberSeconds.toFixed(2)} s`,
      count(result.rowsStored),
      result.subscriberMemory === undefined
        ? '-'
        : `${Math.round(result.subscriberMemory.peakRssKb / 1024)} MiB peak`,
      copyRate === undefined ? '-' : `${(result.subscriberRate / copyRate).toFixed(2)}x`,
    ],
  ];
  if (!('skipped' in result.copy)) {
    const { rate, seconds, rows: stored } = result.copy;
    rows.push([
      'COPY ballots only (psql \\copy)',
      count(rate),
      `${seconds.toFixed(2)} s`,
      count(stored),
      '-',
      '1.00x',
    ]);
  }
  const micros = (value: number | undefined) =>
    value === undefined ? 'unknown' : `${value.toFixed(1)} us`;
  const cpu =
    result.subscriberCpuMicrosPerBallot === undefined
      ? ''
      : `CPU per ballot: subscriber ${micros(result.subscriberCpuMicrosPerBallot)}, ` +
        `its Postgres backends ${micros(result.postgresCpuMicrosPerBallot)}, ` +
        `Redis ${micros(result.redisCpuMicrosPerBallot)}\n`;
  const note = `${cpu}${'skipped' in result.copy ? `COPY skipped: ${result.copy.skipped}\n` : ''}`;
  const check =
    result.acked === result.ballots &&
    result.rowsStored === result.ballots &&
    result.summaryTotal === result.ballots
      ? 'every entry acked, one row per ballot, summaries equal'
      : `acked ${count(result.acked)}, rows ${count(result.rowsStored)}, summaries ${count(result.summaryTotal)} of ${count(result.ballots)} ballots`;
  return `${formatTable(['drain', 'ballots/s', 'time', 'rows', 'rss', 'vs COPY'], rows)}\n${note}${check}\n`;
}

/** XADDs pipelined in chunks, each entry as the gateway writes it. */
async function prefill(redis: Redis, stream: string, ballots: number): Promise<void> {
  progress(`pre-filling ${stream} with ${ballots.toLocaleString('en-US')} ballots`);
  for (let start = 0; start < ballots; start += fillChunk) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(ballots, start + fillChunk); i++) {
      pipeline.xadd(stream, '*', ballotEntryField, JSON.stringify(ballotOf(i)));
    }
    const results = (await pipeline.exec()) ?? [];
    const failure = results.find(([error]) => error !== null)?.[0];
    if (failure) throw failure;
  }
}

/**
 * The same rows through `\copy` into an empty table shaped like `ballots` (key, identity and
 * indexes included) but without the summaries: the floor of what loading them can cost.
 */
async function measureCopy(sql: pg.Pool, databaseUrl: string, schema: string, ballots: number) {
  const dir = await mkdtemp(join(tmpdir(), 'agora-bench-election-copy-'));
  try {
    const file = join(dir, 'ballots.tsv');
    const lines: string[] = [];
    for (let i = 0; i < ballots; i++) {
      const b = ballotOf(i);
      lines.push(
        `${b.id}\t${b.sede}\t${b.municipio}\t${b.departamento}\t${b.papeleta}\t${b.partido}\tredis\n`,
      );
    }
    await writeFile(file, lines.join(''));
    const quoted = pg.escapeIdentifier(schema);
    await sql.query(`CREATE TABLE ${quoted}.ballots_copy (LIKE ${quoted}.ballots INCLUDING ALL)`);
    await checkpoint(sql, 'COPY');
    progress(`loading the same ${ballots.toLocaleString('en-US')} rows with psql \\copy`);
    const started = performance.now();
    try {
      await run('psql', [
        databaseUrl,
        '--no-psqlrc',
        '--quiet',
        '--set=ON_ERROR_STOP=1',
        '--command',
        `\\copy ${quoted}.ballots_copy (id, sede, municipio, departamento, papeleta, partido, route) FROM '${file}'`,
      ]);
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
        return { skipped: 'psql is not installed (apt-get install postgresql-client)' };
      }
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await sql.query<{ rows: string }>(
      `SELECT count(*) AS rows FROM ${quoted}.ballots_copy`,
    );
    return { rate: ballots / seconds, seconds, rows: Number(rows[0]?.rows ?? 0) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function clearKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}
