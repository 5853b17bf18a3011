/**
 * The CPU time of the servers a drain talks to: the Postgres backends of one application name
 * (local processes, read from /proc) and the Redis server (its own `INFO cpu`).
 */
import type { Redis } from 'ioredis';
import type pg from 'pg';

import { readCpuMs } from './report.js';

/** What both a pg pool and the platform's SQL seam can do: one parameterised query. */
interface PidQuery {
  query(text: string, values: string[]): Promise<{ rows: { pid: number }[] }>;
}

/** The pids of the Postgres backends whose connections name themselves `applicationName`. */
export async function backendPids(sql: PidQuery, applicationName: string): Promise<number[]> {
  const { rows } = await sql.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
    applicationName,
  ]);
  return rows.map((row) => row.pid);
}

/**
 * The CPU time so far of the Postgres backends serving `applicationName`, in ms; undefined
 * when Postgres runs elsewhere. Their start (the migrations) counts too, a few milliseconds.
 */
export async function backendsCpuMs(
  sql: pg.Pool,
  applicationName: string,
): Promise<number | undefined> {
  const pids = await backendPids(sql, applicationName);
  let total = 0;
  for (const pid of pids) {
    const ms = readCpuMs(pid);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return pids.length === 0 ? undefined : total;
}

/** The Redis server's user + system CPU time so far, in ms, as its `INFO cpu` reports it. */
export async function redisCpuMs(redis: Redis): Promise<number | undefined> {
  try {
    const info = await redis.info('cpu');
    const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
    const total = seconds('used_cpu_user') + seconds('used_cpu_sys');
    return Number.isNaN(total) ? undefined : total * 1000;
  } catch {
    return undefined;
  }
}

export function difference(after: number | undefined, before: number | undefined) {
  return after === undefined || before === undefined ? undefined : after - before;
}
