/**
 * What a caller must tell apart when a statement fails, by SQLSTATE (PostgreSQL appendix A),
 * and the one retry loop for transactions that lost a race. No SQLSTATE appears outside this
 * seam: stores ask these functions instead.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { backoffDelay } from '../backoff.js';
import type { Sql, SqlQueryable } from './sql.js';

/** 23505: an insert or update hit a unique index or primary key. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlStateOf(error) === '23505';
}

/**
 * 40001 (serialization_failure) and 40P01 (deadlock_detected): the transaction was rolled
 * back because of another one, and running it again from the start may succeed.
 */
export function isSerializationFailure(error: unknown): boolean {
  const code = sqlStateOf(error);
  return code === '40001' || code === '40P01';
}

/** The SQLSTATE both drivers put in `code`, or undefined for an error that is not a database's. */
export function sqlStateOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

export interface RetryTransactionOptions {
  /** Runs of `work` in all, the first included. */
  maxAttempts?: number;
}

/**
 * Runs `work` in one transaction, and again in a fresh one (after a short jittered wait) while
 * it fails with a serialization failure or deadlock; any other error is rethrown at once.
 */
export async function retryTransaction<T>(
  sql: Sql,
  work: (tx: SqlQueryable) => Promise<T>,
  { maxAttempts = 8 }: RetryTransactionOptions = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await sql.transaction(work);
    } catch (error) {
      if (!isSerializationFailure(error) || attempt + 1 >= maxAttempts) throw error;
      await sleep(backoffDelay(attempt, { initialMs: 10, maxMs: 500 }));
    }
  }
}
