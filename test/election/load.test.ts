/**
 * `agora load election` (the built CLI) against election-grpc, election-gateway and
 * election-subscriber running as processes on real Redis and Postgres: every route is used and
 * reported, every acknowledged ballot is verified in the Postgres --database-url names, a seed-format --data file works,
 * and a database that lacks the ballots fails the run with exit code 3.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { electionMigrations } from '../../src/election/migrations.js';
import { electionSystem } from '../../src/election/protocol.js';
import type { LoadReport } from '../../src/load/report.js';
import { migrate, PgSql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl, uniqueName } from '../support/backends.js';
import { type ElectionIngest, startElectionIngest } from '../support/election-load-services.js';
import { killAll, startAgora } from '../support/processes.js';

let ingest: ElectionIngest;
let dir: string;
const emptySchema = uniqueName('electionempty');
const emptySql = new PgSql({ url: testDatabaseUrl, schema: emptySchema });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agora-election-load-'));
  ingest = await startElectionIngest('electionload');
}, 60_000);

afterAll(async () => {
  await killAll();
  await ingest.cleanUp();
  await emptySql.query(`DROP SCHEMA IF EXISTS ${emptySchema} CASCADE`);
  await emptySql.close();
});

async function loadElection(args: string[], schema = ingest.schema) {
  const reportPath = join(dir, `report-${Date.now()}-${Math.random()}.json`);
  const run = startAgora(
    [
      'load',
      'election',
      '--url',
      ingest.gatewayUrl,
      '--grpc-url',
      ingest.grpcAddress,
      '--database-url',
      testDatabaseUrl,
      '--db-schema',
      schema,
      '--no-live',
      '--report',
      reportPath,
      ...args,
    ],
    {},
  );
  const exit = await run.exited;
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as LoadReport;
  return { exitCode: exit.code, report, output: run.output() };
}

it('sends generated ballots over all three routes and finds each acknowledged one stored once', async () => {
  const { exitCode, report, output } = await loadElection([
    '--users',
    '8',
    '--total',
    '300',
    '--batch',
    '5',
  ]);

  expect(exitCode, output).toBe(0);
  expect(report.routes.map((route) => route.route)).toEqual([
    'gateway-grpc',
    'gateway-redis',
    'grpc-direct',
  ]);
  for (const route of report.routes) {
    expect(route.requests, route.route).toBeGreaterThan(0);
    expect(route.failed, route.route).toBe(0);
    expect(route.latencyMs.p99).toBeGreaterThan(0);
  }
  expect(report.total.requests).toBe(300);
  expect(report.acknowledged).toBe(300);
  expect(report.verification).toMatchObject({ ok: true, checked: 1_500, differenceCount: 0 });
  expect(report.verification?.stored).toMatchObject({ ballots: 1_500, missing: 0 });
  const { rows } = await ingest.sql.query<{ route: string; ballots: string }>(
    'SELECT route, count(*) AS ballots FROM ballots GROUP BY route ORDER BY route',
  );
  expect(rows.map((row) => row.route)).toEqual(['grpc', 'redis']);
  expect(rows.reduce((sum, row) => sum + Number(row.ballots), 0)).toBe(1_500);
  // The text report: a row per route, the verification and the verdict.
  expect(output).toMatch(/gateway-redis\s+\d+\s+0\s/);
  expect(output).toMatch(/grpc-direct\s+\d+\s+0\s/);
  expect(output).toContain('verification: ok, 1500 acknowledged checked, 0 differences');
  expect(output).toContain('store:    Postgres, read through --database-url');
  expect(output).toContain('result: PASSED (exit code 0)');
}, 60_000);

it('posts a seed-format --data file, reusing the ids the file gives on every pass', async () => {
  const ballots = [
    {
      sede: 'Escuela Oficial Urbana Mixta No. 1, Flores',
      municipio: 'Flores',
      departamento: 'Petén',
      papeleta: 'presidente',
      partido: 'SEMILLA',
    },
    {
      id: uniqueName('seed'),
      sede: 'Salón Municipal No. 1, Zunil',
      municipio: 'Zunil',
      departamento: 'Quetzaltenango',
      papeleta: 'alcaldes',
      partido: 'WINAQ',
    },
  ];
  const data = join(dir, 'ballots.json');
  await writeFile(data, JSON.stringify(ballots));
  const { exitCode, report, output } = await loadElection([
    '--data',
    data,
    '--users',
    '2',
    '--total',
    '10',
    '--routes',
    'gateway-grpc=1,gateway-redis=1',
  ]);

  expect(exitCode, output).toBe(0);
  expect(report.routes.map((route) => route.route)).toEqual(['gateway-grpc', 'gateway-redis']);
  // Five fresh ids for the first ballot, one id (sent five times) for the second.
  expect(report.verification).toMatchObject({ ok: true, checked: 6 });
  const fixed = await ingest.sql.query('SELECT partido FROM ballots WHERE id = $1', [
    ballots[1]?.id,
  ]);
  expect(fixed.rows).toEqual([{ partido: 'WINAQ' }]);
}, 60_000);

it('exits 3 and names the ballots when Postgres does not hold what was acknowledged', async () => {
  // The ballots go to the real schema; verification looks in an empty one.
  await migrate(emptySql, electionSystem, electionMigrations);
  const { exitCode, report, output } = await loadElection(
    ['--users', '2', '--total', '6', '--settle-timeout', '500ms'],
    emptySchema,
  );

  expect(exitCode, output).toBe(3);
  expect(report.acknowledged).toBe(6);
  expect(report.verification?.ok).toBe(false);
  expect(report.verification?.stored).toMatchObject({ ballots: 0, missing: 6 });
  expect(report.verification?.differences).toContainEqual(
    expect.stringMatching(/^ballot load-[\w-]+: acknowledged, not stored$/),
  );
  expect(output).toContain('result: FAILED (exit code 3)');
}, 60_000);
