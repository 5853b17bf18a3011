/**
 * A fresh embedded stack takes load at once: `agora up vote worker result` on an empty data
 * directory, then `agora load voting --rate 200` straight away drops nothing and verifies.
 * (PGlite is warmed at open; before that its first statements stalled the shared event loop
 * and the first few hundred votes waited for seconds.)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, expect, it } from 'vitest';

import type { LoadReport } from '../../src/load/report.js';
import { freePort, killAll, startAgora, waitForHttp } from '../support/processes.js';

let dir = '';
afterAll(async () => {
  await killAll();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

it('takes 200 votes a second on a fresh embedded stack without dropping one', async () => {
  dir = await mkdtemp(join(tmpdir(), 'agora-cold-start-'));
  const ports = { vote: await freePort(), result: await freePort(), worker: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AGORA_VOTE_PORT: String(ports.vote),
    AGORA_RESULT_PORT: String(ports.result),
    AGORA_WORKER_PORT: String(ports.worker),
    AGORA_DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'warn',
  };
  for (const name of ['REDIS_URL', 'DATABASE_URL', 'AGORA_DB_SCHEMA', 'AGORA_RESULT_URL']) {
    Reflect.deleteProperty(env, name);
  }
  startAgora(['up', 'vote', 'worker', 'result'], { env });
  for (const port of Object.values(ports)) {
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 60_000 });
  }

  const reportPath = join(dir, 'report.json');
  const run = startAgora(
    [
      'load',
      'voting',
      '--url',
      `http://127.0.0.1:${ports.vote}/`,
      '--result-url',
      `http://127.0.0.1:${ports.result}/`,
      '--rate',
      '200',
      '--duration',
      '5s',
      // Voters enough that only a stall of a second or more (the cold start's) drops arrivals.
      '--users',
      '200',
      '--no-live',
      '--report',
      reportPath,
    ],
    { env },
  );
  const exit = await run.exited;
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as LoadReport;
  expect(exit.code, run.output()).toBe(0);
  expect(report.total.failed, run.output()).toBe(0);
  expect(report.acknowledged).toBe(report.total.requests);
  expect(report.verification).toMatchObject({ ok: true });
}, 120_000);
