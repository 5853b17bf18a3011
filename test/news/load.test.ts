/**
 * `agora load news` against an agent and two nodes on real Postgres: readers registered and
 * subscribed before the run post; every acknowledged post is read back stored once, and one
 * deleted behind the run's back fails it. Without an area to post to the run says so.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { LoadReport } from '../../src/load/report.js';
import { createAdmin } from '../../src/news/accounts.js';
import { uniqueName } from '../support/backends.js';
import { dropSchema, type NewsCluster, startNewsCluster } from '../support/news.js';
import { startAgora } from '../support/processes.js';

const schema = uniqueName('news_load');
let cluster: NewsCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startNewsCluster(schema, 2);
  dir = await mkdtemp(join(tmpdir(), 'agora-news-load-'));
}, 60_000);

afterAll(async () => {
  await cluster.stop();
  await dropSchema(schema);
});

async function loadNews(args: string[]) {
  const reportPath = join(dir, `report-${Date.now()}.json`);
  const run = startAgora(
    [
      'load',
      'news',
      '--url',
      `tcp://${cluster.agent}`,
      '--no-live',
      '--report',
      reportPath,
      ...args,
    ],
    { env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  const exit = await run.exited;
  return { exitCode: exit.code, output: run.output(), reportPath };
}

it('says how to add an area when there is none to post to', async () => {
  const { exitCode, output } = await loadNews(['--users', '2', '--total', '4']);
  expect(exitCode).not.toBe(0);
  expect(output).toMatch(/no news area to post to: an admin adds one/);
});

it('stores every acknowledged post of 8 users (as 4 readers) once, and says PASSED', async () => {
  await createAdmin(cluster.sql, 'root', 'root-password');
  const admin = cluster.client();
  await admin.login('root', 'root-password');
  await admin.addArea('sports');
  await admin.addArea('science');
  const { exitCode, output, reportPath } = await loadNews([
    '--readers',
    '4',
    '--users',
    '8',
    '--total',
    '120',
  ]);
  expect(output).toMatch(/result: PASSED \(exit code 0\)/);
  expect(exitCode).toBe(0);
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as LoadReport;
  expect(report.acknowledged).toBe(120);
  expect(report.verification).toMatchObject({ ok: true, checked: 120, differenceCount: 0 });
  const { rows } = await cluster.sql.query<{ count: string }>(
    'SELECT count(*) AS count FROM news_items',
  );
  expect(Number(rows[0]?.count)).toBe(120);
}, 90_000);

it('fails the run, exit code 3, when an acknowledged post is missing from the store', async () => {
  // A trigger deletes one post of this run right after it is stored: acknowledged, then lost.
  await cluster.sql.query(`
    CREATE OR REPLACE FUNCTION lose_one_post() RETURNS trigger AS $$
    BEGIN
      IF NEW.body LIKE 'load-% u1 #2' THEN DELETE FROM news_items WHERE id = NEW.id; END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql`);
  await cluster.sql.query(
    'CREATE TRIGGER lose_one_post AFTER INSERT ON news_items FOR EACH ROW EXECUTE FUNCTION lose_one_post()',
  );
  try {
    const { exitCode, output, reportPath } = await loadNews([
      '--readers',
      '1',
      '--users',
      '2',
      '--total',
      '12',
    ]);
    expect(output).toMatch(/result: FAILED/);
    expect(exitCode).toBe(3);
    const report = JSON.parse(await readFile(reportPath, 'utf8')) as LoadReport;
    expect(report.verification?.differences).toEqual([
      expect.stringMatching(/^"load-\w+-1 u1 #2": acknowledged as news \d+ in \w+, not stored$/),
    ]);
  } finally {
    await cluster.sql.query('DROP TRIGGER lose_one_post ON news_items');
  }
}, 90_000);
