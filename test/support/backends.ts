/**
 * Where the tests find real Redis and Postgres (the global setup may have started throwaway
 * ones and set these variables), and unique names that keep each test's data apart.
 */
import { randomBytes } from 'node:crypto';

export const testRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const testDatabaseUrl =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A vote secret strong enough for the vote service to start outside development mode. */
export const testVoteSecret = 'integration-tests-vote-secret-0123456789abcdef';

/** A name no other test run uses, safe as a Redis key prefix part or a Postgres schema name. */
export function uniqueName(label: string): string {
  return `t_${label}_${randomBytes(5).toString('hex')}`;
}
