/**
 * The pg driver's statement timeout: a statement running past it is cancelled and reported as
 * a database that does not answer (a readable 503), while other statements are served and
 * migrations, which may legitimately take longer, are exempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SqlUnavailableError } from '../../src/platform/errors.js';
import { migrate, PgSql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl, uniqueName } from '../support/backends.js';

const schema = uniqueName('sql_limits');
let sql: PgSql;

beforeAll(() => {
  sql = new PgSql({ url: testDatabaseUrl, schema, poolSize: 2, statementTimeoutMs: 300 });
});

afterAll(async () => {
  await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sql.close();
});

describe('the pg statement timeout', () => {
  it('cancels a slow statement readably and keeps serving the others', async () => {
    const slow = sql.query('SELECT pg_sleep(30)');
    await expect(slow).rejects.toBeInstanceOf(SqlUnavailableError);
    await expect(slow).rejects.toThrow(/statement timeout/);
    const { rows } = await sql.query<{ one: number }>('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('does not apply to migrations', async () => {
    const applied = await migrate(sql, 'limits', [
      { version: 1, name: 'slow', sql: 'SELECT pg_sleep(0.6); CREATE TABLE limits_t (id int)' },
    ]);
    expect(applied).toBe(1);
    await expect(sql.query('SELECT count(*) FROM limits_t')).resolves.toBeDefined();
  });
});
