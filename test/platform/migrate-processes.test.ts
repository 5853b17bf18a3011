/**
 * The multi-replica proof: three Node processes migrate one fresh schema of real Postgres at
 * the same moment, and the advisory lock lets each migration run exactly once.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { PgSql } from '../../src/platform/sql/pg.js';
import { testDatabaseUrl, uniqueName } from '../support/backends.js';
import { killAll, repoRoot, startProcess } from '../support/processes.js';

const childScript = join(repoRoot, 'test/support/migrate-child.mjs');
const compiledSql = join(repoRoot, 'dist/src/platform/sql/index.js');

describe('migrate from several processes', () => {
  afterEach(() => killAll());

  it('applies each migration exactly once when three processes migrate one schema at once', async () => {
    if (!existsSync(compiledSql)) {
      throw new Error(`${compiledSql} is missing: run npm run build (npm test runs it first)`);
    }
    const schema = uniqueName('race');
    const children = [1, 2, 3].map(() =>
      startProcess(process.execPath, [childScript, testDatabaseUrl, schema]),
    );
    // Each child connects, then waits on stdin, so all three migrate at the same moment.
    await Promise.all(children.map((child) => child.waitForOutput(/^ready$/m)));
    for (const child of children) child.child.stdin?.write('go\n');
    const outputs = await Promise.all(
      children.map((child) => child.waitForOutput(/^\{"applied":(\d+)\}$/m)),
    );
    const exits = await Promise.all(children.map((child) => child.exited));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);
    const applied = outputs.map((match) => Number(match[1]));
    expect(applied.reduce((sum, count) => sum + count, 0)).toBe(3);

    const sql = new PgSql({ url: testDatabaseUrl, schema });
    try {
      const log = await sql.query(
        'SELECT version, count(*)::int AS times FROM migration_log GROUP BY version ORDER BY version',
      );
      expect(log.rows).toEqual([1, 2, 3].map((version) => ({ version, times: 1 })));
      const recorded = await sql.query(
        'SELECT version FROM agora_migrations WHERE system = $1 ORDER BY version',
        ['race'],
      );
      expect(recorded.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    } finally {
      await sql.query(`DROP SCHEMA "${schema}" CASCADE`);
      await sql.close();
    }
  });
});
