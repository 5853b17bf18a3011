/**
 * `agora load election` against the election services under `agora up` with embedded backends
 * (PGlite, in-memory broker), as a newcomer runs it after `npm start`: with no database flag
 * the run verifies through election-api, in the PGlite the stack holds, and says so.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { LoadReport } from '../../src/load/report.js';
import { freePort, killAll, startAgora, waitForHttp } from '../support/processes.js';

const services = ['election-api', 'election-gateway', 'election-grpc', 'election-subscriber'];
const ports = { api: 0, gateway: 0, grpc: 0, grpcAdmin: 0, subscriber: 0 };
let env: NodeJS.ProcessEnv;
let dir: string;

beforeAll(async () => {
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
  dir = await mkdtemp(join(tmpdir(), 'agora-election-embedded-'));
  env = {
    ...process.env,
    AGORA_ELECTION_API_PORT: String(ports.api),
    AGORA_ELECTION_GATEWAY_PORT: String(ports.gateway),
    AGORA_ELECTION_GRPC_PORT: String(ports.grpc),
    AGORA_ELECTION_SUBSCRIBER_PORT: String(ports.subscriber),
    ELECTION_GRPC_ADMIN_PORT: String(ports.grpcAdmin),
    AGORA_ELECTION_GRPC_URL: `127.0.0.1:${ports.grpc}`,
    AGORA_DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'warn',
  };
  for (const name of ['REDIS_URL', 'DATABASE_URL', 'AGORA_DB_SCHEMA', 'AGORA_ELECTION_API_URL']) {
    Reflect.deleteProperty(env, name);
  }
  startAgora(['up', ...services], { env });
  for (const port of [ports.api, ports.gateway, ports.grpcAdmin, ports.subscriber]) {
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { status: 200, timeoutMs: 60_000 });
  }
}, 90_000);

afterAll(async () => {
  await killAll();
});

it('verifies every acknowledged ballot in the embedded PGlite, through election-api, with no flag', async () => {
  const reportPath = join(dir, 'report.json');
  const apiUrl = `http://127.0.0.1:${ports.api}/`;
  const run = startAgora(
    [
      'load',
      'election',
      '--url',
      `http://127.0.0.1:${ports.gateway}/`,
      '--api-url',
      apiUrl,
      '--users',
      '4',
      '--total',
      '60',
      '--batch',
      '3',
      '--no-live',
      '--report',
      reportPath,
    ],
    { env },
  );
  const exit = await run.exited;
  const output = run.output();
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as LoadReport;

  expect(exit.code, output).toBe(0);
  expect(report.total.failed, output).toBe(0);
  expect(report.verification).toMatchObject({ ok: true, checked: 180, differenceCount: 0 });
  expect(report.verification?.store).toBe(
    `embedded PGlite, read through election-api at ${apiUrl}`,
  );
  expect(output).toContain(`store:    embedded PGlite, read through election-api at ${apiUrl}`);
  expect(output).toContain('result: PASSED (exit code 0)');
}, 90_000);

it('under --no-verify prints no verifying line and says the check was skipped', async () => {
  const run = startAgora(
    [
      'load',
      'election',
      '--url',
      `http://127.0.0.1:${ports.gateway}/`,
      '--total',
      '5',
      '--no-verify',
      '--no-live',
    ],
    { env },
  );
  const exit = await run.exited;
  const output = run.output();
  expect(exit.code, output).toBe(0);
  expect(output).not.toContain('verifying');
  expect(output).toContain('verification: skipped (--no-verify)');
}, 60_000);
