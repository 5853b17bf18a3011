/**
 * Drain benchmarks compare a consumer with COPY on one Postgres, one after the other; whoever
 * goes second would also pay for writing out the first one's dirty pages (a million rows leave
 * about 100 MB), so the order would bias the ratio. A CHECKPOINT before each loader starts both
 * from the same clean state.
 */
import type pg from 'pg';

import { progress } from './benchmark.js';

/** Runs CHECKPOINT, or says why not (it needs superuser or pg_checkpoint) and goes on. */
export async function checkpoint(sql: pg.Pool, before: string): Promise<void> {
  try {
    await sql.query('CHECKPOINT');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    progress(`no CHECKPOINT before ${before} (${reason}): figures may swing more`);
  }
}
