/**
 * `agora load voting` against `agora up vote worker result` (embedded: in-memory broker,
 * PGlite): every acknowledged vote shows in the tally, and a tally that disagrees fails the run.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { LoadReport } from '../../src/load/report.js';
import { startTestTarget } from '../../src/load/test-target.js';
import { freePort, killAll, startAgora, waitFor, waitForHttp } from '../support/processes.js';

const ports = { vote: 0, result: 0, worker: 0 };
let env: NodeJS.ProcessEnv;
let dir: string;

beforeAll(async () => {
  for (const name of ['vote', 'result', 'worker'] as const) ports[name] = await freePort();
  dir = await mkdtemp(join(tmpdir(), 'agora-voting-load-'));
  env = {
    ...process.env,
    AGORA_VOTE_PORT: String(ports.vote),
    AGORA_RESULT_PORT: String(ports.result),
    AGORA_WORKER_PORT: String(ports.worker),
    AGORA_DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'warn',
  };
  delete env.REDIS_URL;
  delete env.DATABASE_URL;
  delete env.AGORA_RESULT_URL;
  startAgora(['up', 'vote', 'worker', 'result'], { env });
  for (const port of Object.values(ports)) {
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { status: 200, timeoutMs: 30_000 });
  }
  // A vote from someone else, before the run: verification must count on top of it.
  const vote = await fetch(`http://127.0.0.1:${ports.vote}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"vote":"a"}',
  });
  expect(vote.status).toBe(202);
  await waitFor(async () => (await tallyTotal()) === 1);
});

afterAll(async () => {
  await killAll();
});

async function tallyTotal(): Promise<number> {
  const results = await fetch(`http://127.0.0.1:${ports.result}/api/results`);
  return ((await results.json()) as { total: number }).total;
}

async function loadVoting(args: string[]) {
  const reportPath = join(dir, `report-${Date.now()}.json`);
  const vote = `http://127.0.0.1:${ports.vote}/`;
  const run = startAgora(
    ['load', 'voting', '--url', vote, '--no-live', '--report', reportPath, ...args],
    { env },
  );
  const exit = await run.exited;
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as LoadReport;
  return { exitCode: exit.code, report, output: run.output() };
}

it('stores each of 50 voters once, with their last acknowledged vote, on top of earlier votes', async () => {
  const before = await tallyTotal();
  const resultUrl = `http://127.0.0.1:${ports.result}/`;
  // The closed model: all 50 voters vote, ten times each on average.
  const { exitCode, report, output } = await loadVoting([
    '--result-url',
    resultUrl,
    '--users',
    '50',
    '--total',
    '500',
  ]);

  expect(exitCode, output).toBe(0);
  expect(report.total.requests).toBe(500);
  expect(report.total.failed, output).toBe(0);
  expect(report.acknowledged).toBe(500);
  expect(report.verification?.ok).toBe(true);
  expect(report.verification?.expected).toEqual(report.verification?.stored);
  const stored = report.verification?.stored as Record<'a' | 'b', number>;
  expect(stored.a + stored.b).toBe(before + 50);
  expect(report.verification?.store).toBe(`embedded PGlite, read through result at ${resultUrl}`);
  expect(output).toContain(`store:    embedded PGlite, read through result at ${resultUrl}`);
  expect(output).toContain('result: PASSED (exit code 0)');
});

it('spreads the open model over -u distinct voters', async () => {
  const before = await tallyTotal();
  const resultUrl = `http://127.0.0.1:${ports.result}/`;
  const { exitCode, report, output } = await loadVoting([
    '--result-url',
    resultUrl,
    '--rate',
    '200',
    '--users',
    '60',
    '--total',
    '60',
  ]);

  // One voter per arrival, however fast the earlier voters were answered.
  expect(exitCode, output).toBe(0);
  expect(report.acknowledged).toBe(60);
  const stored = report.verification?.stored as Record<'a' | 'b', number>;
  expect(stored.a + stored.b).toBe(before + 60);
});

it('exits 3 and names each option whose stored count differs from the acknowledged votes', async () => {
  const wrongTally = await startTestTarget(() => ({
    status: 200,
    body: JSON.stringify({
      options: [
        { option: 'a', label: 'Cats', votes: 0, percent: 0 },
        { option: 'b', label: 'Dogs', votes: 0, percent: 0 },
      ],
      total: 0,
      totalText: 'no votes yet',
    }),
  }));
  try {
    // The open model this time: 5 voters, a vote every 10 ms.
    const { exitCode, report, output } = await loadVoting([
      '--result-url',
      wrongTally.url.href,
      '--users',
      '5',
      '--total',
      '50',
      '--rate',
      '100',
      '--settle-timeout',
      '500ms',
    ]);

    expect(exitCode, output).toBe(3);
    expect(report.acknowledged).toBeGreaterThan(0);
    expect(report.verification?.ok).toBe(false);
    expect(report.verification?.stored).toEqual({ a: 0, b: 0 });
    const expected = report.verification?.expected as Record<'a' | 'b', number>;
    expect(expected.a + expected.b).toBeGreaterThan(0);
    for (const option of ['a', 'b'] as const) {
      if (expected[option] === 0) continue;
      const line = `option ${option}: expected ${expected[option]}, stored 0 (${expected[option]} missing)`;
      expect(report.verification?.differences).toContain(line);
      expect(output).toContain(line);
    }
    expect(output).toContain('result: FAILED (exit code 3)');
  } finally {
    await wrongTally.close();
  }
});
