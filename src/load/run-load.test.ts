import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { Command } from 'commander';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  addLoadOptions,
  parseRunOptions,
  type RawLoadOptions,
  type RunOptions,
} from './cli-options.js';
import { httpScenario } from './http-profile.js';
import type { LoadReport } from './report.js';
import { type LoadIo, runLoad } from './run-load.js';
import { errorReason, type Scenario } from './scenario.js';
import { startTestTarget, type TestTarget } from './test-target.js';

function optionsFrom(url: URL, args: string[]): RunOptions {
  const command = addLoadOptions(new Command('load').exitOverride(), url.href);
  command.parse(['--no-live', ...args], { from: 'user' });
  return parseRunOptions(command.opts<RawLoadOptions>());
}

function captureIo(signal?: AbortSignal): LoadIo & { out: () => string; err: () => string } {
  const collect = (stream: PassThrough) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    return () => text;
  };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  return { stdout, stderr, signal, out: collect(stdout), err: collect(stderr) };
}

/** POST /items with an id; the server keeps every id except those it is told to lose. */
function itemScenario(url: URL): Scenario<{ id: number; sent: number }, string> {
  return {
    name: 'items',
    routes: ['store'],
    createUser: (index) => ({ id: index, sent: 0 }),
    async request(user, context) {
      const item = `item-${user.id}-${user.sent++}`;
      try {
        const response = await request(new URL('/items', url), {
          method: 'POST',
          body: item,
          dispatcher: context.http,
          signal: context.signal,
        });
        await response.body.dump();
        const ok = response.statusCode === 201;
        return {
          route: 'store',
          ok,
          status: response.statusCode,
          acknowledged: ok ? item : undefined,
        };
      } catch (error) {
        return { route: 'store', ok: false, error: errorReason(error) };
      }
    },
    async verify({ acknowledged }, context) {
      const response = await request(new URL('/items', url), {
        dispatcher: context.http,
        signal: context.signal,
      });
      const stored = new Set((await response.body.text()).split('\n'));
      const missing = acknowledged.filter((item) => !stored.has(item));
      return {
        ok: missing.length === 0,
        checked: acknowledged.length,
        expected: acknowledged.length,
        stored: acknowledged.length - missing.length,
        differences: missing.map((item) => `${item}: acknowledged but not stored`),
      };
    },
  };
}

describe('runLoad', () => {
  let target: TestTarget;
  let dir: string;
  const kept: string[] = [];
  let flakyCount = 0;
  beforeEach(async () => {
    kept.length = 0;
    flakyCount = 0;
    dir = mkdtempSync(join(tmpdir(), 'agora-load-'));
    target = await startTestTarget((incoming) => {
      if (incoming.method === 'GET' && incoming.path === '/items')
        return { status: 200, body: kept.join('\n') };
      if (incoming.path === '/items') {
        if (incoming.body !== 'item-0-3') kept.push(incoming.body);
        return { status: 201 };
      }
      if (incoming.path === '/flaky') return { status: flakyCount++ % 2 === 0 ? 200 : 500 };
      return { status: 200 };
    });
  });
  afterEach(async () => {
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an interrupted run still prints its report, writes the JSON file and exits 130', async () => {
    target.hold();
    const interrupt = new AbortController();
    const reportPath = join(dir, 'report.json');
    const io = captureIo(interrupt.signal);
    const running = runLoad(
      httpScenario(target.url),
      optionsFrom(target.url, ['--rate', '50', '--report', reportPath]),
      io,
    );
    await target.whenReceived(2);
    interrupt.abort();
    target.release();
    expect(await running).toBe(130);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as LoadReport;
    expect(report.stoppedBy).toBe('interrupted');
    expect(report.total.requests).toBeGreaterThanOrEqual(2);
    expect(report.exitCode).toBe(130);
    expect(io.out()).toContain('result: INTERRUPTED (exit code 130)');
    expect(io.err()).toContain('stopping');
  });

  it('a breached --max-failures exits 1 and names the breach', async () => {
    const io = captureIo();
    const options = optionsFrom(target.url, ['-u', '2', '-n', '20', '--max-failures', '5%']);
    expect(await runLoad(httpScenario(new URL('/flaky', target.url)), options, io)).toBe(1);
    expect(io.out()).toContain('BREACH failures: 10 of 20 (50%) > 5%');
    expect(io.out()).toContain('GET /flaky: HTTP 500 x 10');
  });

  it('exits 0 when the run keeps within its thresholds', async () => {
    const io = captureIo();
    const options = optionsFrom(target.url, [
      '-u',
      '2',
      '-n',
      '20',
      '--max-p99',
      '60000',
      '--max-failures',
      '0',
    ]);
    expect(await runLoad(httpScenario(target.url), options, io)).toBe(0);
    expect(io.out()).toContain('result: PASSED (exit code 0)');
  });

  it('a run with failures and no --max-failures is FAILED, not PASSED', async () => {
    const io = captureIo();
    const options = optionsFrom(target.url, ['-u', '2', '-n', '20']);
    expect(await runLoad(httpScenario(new URL('/flaky', target.url)), options, io)).toBe(1);
    expect(io.out()).toContain('BREACH failures: 10 of 20 (50%) > 0');
    expect(io.out()).toContain('result: FAILED (exit code 1)');
  });

  it('under --no-verify prints no verifying line and says the check was skipped', async () => {
    const io = captureIo();
    const options = optionsFrom(target.url, ['-u', '1', '-n', '6', '--no-verify']);
    expect(await runLoad(itemScenario(target.url), options, io)).toBe(0);
    expect(io.err()).not.toContain('verifying');
    expect(io.out()).toContain('verification: skipped (--no-verify)');
    expect(kept).toHaveLength(5);
  });

  it('prints the header once when the report goes to the same terminal', async () => {
    const io = captureIo();
    Object.assign(io.stdout, { isTTY: true });
    Object.assign(io.stderr, { isTTY: true });
    const options = optionsFrom(target.url, ['-u', '1', '-n', '3']);
    expect(await runLoad(httpScenario(target.url), options, io)).toBe(0);
    const header = `agora load http: closed model, 1 users, no think time against ${target.url.href}`;
    expect(`${io.err()}${io.out()}`.split(header)).toHaveLength(2);
  });

  it('a failed verification exits 3 and the report names the lost item', async () => {
    const io = captureIo();
    const reportPath = join(dir, 'report.json');
    const options = optionsFrom(target.url, [
      '-u',
      '1',
      '-n',
      '6',
      '--json',
      '--report',
      reportPath,
    ]);
    expect(await runLoad(itemScenario(target.url), options, io)).toBe(3);
    const report = JSON.parse(io.out()) as LoadReport;
    expect(report.verification?.ok).toBe(false);
    expect(report.verification?.differences).toEqual(['item-0-3: acknowledged but not stored']);
    expect(io.err()).toContain('- item-0-3: acknowledged but not stored');
    expect((JSON.parse(readFileSync(reportPath, 'utf8')) as LoadReport).exitCode).toBe(3);
  });
});
