/**
 * `agora load tasks` against `agora run tasks` on real Postgres: every acknowledged task is
 * read back stored once, and a task deleted behind the run's back fails the verification.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { LoadReport } from '../../src/load/report.js';
import { PgSql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl, uniqueName } from '../support/backends.js';
import { freePort, killAll, startAgora, waitForHttp } from '../support/processes.js';

const schema = uniqueName('tasks_load');
const sql = new PgSql({ url: testDatabaseUrl, schema });
const env = {
  ...process.env,
  DATABASE_URL: testDatabaseUrl,
  AGORA_DB_SCHEMA: schema,
  LOG_LEVEL: 'warn',
};
let base: string;
let dir: string;

beforeAll(async () => {
  const port = await freePort();
  dir = await mkdtemp(join(tmpdir(), 'agora-tasks-load-'));
  startAgora(['run', 'tasks', '--port', String(port)], { env: { ...env, LOG_FORMAT: 'json' } });
  base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/readyz`, { timeoutMs: 30_000 });
});

afterAll(async () => {
  await killAll();
  await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sql.close();
});

async function loadTasks(args: string[]) {
  const reportPath = join(dir, `report-${Date.now()}.json`);
  const run = startAgora(
    ['load', 'tasks', '--url', base, '--no-live', '--report', reportPath, ...args],
    { env },
  );
  const exit = await run.exited;
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as LoadReport;
  return { exitCode: exit.code, report, output: run.output() };
}

it('stores every acknowledged task of 20 clients once, and says PASSED', async () => {
  const { exitCode, report, output } = await loadTasks(['--users', '20', '--total', '300']);
  expect(output).toMatch(/verification: ok, 300 acknowledged checked, 0 differences/);
  expect(output).toMatch(/result: PASSED \(exit code 0\)/);
  expect(exitCode).toBe(0);
  expect(report.acknowledged).toBe(300);
  expect(report.verification).toMatchObject({ ok: true, checked: 300, differenceCount: 0 });
  const { rows } = await sql.query<{ count: string }>(
    "SELECT count(*) AS count FROM tasks WHERE client_id LIKE 'load-%'",
  );
  expect(Number(rows[0]?.count)).toBe(300);
});

it('fails the run, exit code 3, when an acknowledged task is missing from the store', async () => {
  // A trigger deletes one task of this run right after it is stored: acknowledged, then lost.
  await sql.query(`
    CREATE OR REPLACE FUNCTION lose_one() RETURNS trigger AS $$
    BEGIN
      IF NEW.idempotency_key = 'task-3' AND NEW.client_id LIKE 'load-%-1' THEN
        DELETE FROM tasks WHERE id = NEW.id;
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql`);
  await sql.query(
    'CREATE TRIGGER lose_one AFTER INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION lose_one()',
  );
  try {
    const { exitCode, report, output } = await loadTasks(['--users', '2', '--total', '10']);
    expect(output).toMatch(/verification: FAILED/);
    expect(exitCode).toBe(3);
    expect(report.verification?.differences).toEqual([
      expect.stringMatching(/^load-\w+-1\/task-3: acknowledged as task \d+, not stored$/),
    ]);
  } finally {
    await sql.query('DROP TRIGGER lose_one ON tasks');
  }
});
