/**
 * What a started service keeps in memory that it no longer needs: the bundle's chunks are
 * Latin-1 throughout (rolldown.config.ts), so V8 keeps each one's source one byte per
 * character; and V8's optimizing compiler waits until the service is ready (src/cli/start-up.ts),
 * so a resting service has not paged TurboFan's code in. The wait lasts 10 s at most, so one
 * that waits for a dependency is not left slow, and a flag the user named stays.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { testRedisUrl, uniqueName } from '../support/backends.js';
import {
  agoraCli,
  freePort,
  killAll,
  type ManagedProcess,
  repoRoot,
  startProcess,
  waitFor,
  waitForHttp,
} from '../support/processes.js';

afterEach(() => killAll());

/** What V8's --trace-opt prints when TurboFan has compiled a function. */
const optimized = /completed optimizing .*\(target TURBOFAN\)/;

/** `agora run counter` on a free port, with these node flags first. */
async function startCounter(
  nodeFlags: readonly string[],
  env: NodeJS.ProcessEnv = { REDIS_URL: testRedisUrl },
): Promise<{ counter: ManagedProcess; port: number }> {
  const port = await freePort();
  const counter = startProcess(
    process.execPath,
    [...nodeFlags, agoraCli, 'run', 'counter', '--port', String(port)],
    {
      env: {
        ...process.env,
        AGORA_REDIS_PREFIX: `${uniqueName('resting')}:`,
        LOG_LEVEL: 'warn',
        ...env,
      },
    },
  );
  return { counter, port };
}

/** Sends `count` requests for `path` at once and reads every answer. */
async function hit(port: number, path: string, count = 200): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      await response.text();
    }),
  );
}

describe('a resting service', () => {
  it('loads chunks whose sources V8 keeps one byte per character', async () => {
    const dir = join(repoRoot, 'dist/cli');
    const chunks = (await readdir(dir)).filter((name) => name.endsWith('.js'));
    expect(chunks.length).toBeGreaterThan(20);
    const wide: string[] = [];
    for (const chunk of chunks) {
      const code = await readFile(join(dir, chunk), 'utf8');
      // One UTF-16 code unit above 0xFF (an astral character's surrogates too) and V8 keeps
      // the whole source two bytes per character.
      const found = /[\u0100-\uffff]/.exec(code);
      if (found !== null) wide.push(`${chunk}: U+${found[0].charCodeAt(0).toString(16)}`);
    }
    expect(wide).toEqual([]);
  });

  it('has TurboFan compile nothing until it is ready, and hot code once traffic comes', async () => {
    const { counter, port } = await startCounter(['--trace-opt']);
    await waitForHttp(`http://127.0.0.1:${port}/readyz`);
    expect(counter.stdout()).not.toMatch(optimized);

    // Hits until V8 optimizes the request path: the hold is over once the counter is ready.
    await waitFor(
      async () => {
        await hit(port, '/');
        return optimized.test(counter.stdout());
      },
      { timeoutMs: 30_000, intervalMs: 0, message: 'a TurboFan compile under traffic' },
    );
  });

  it('has TurboFan back after 10 s even if the service never gets ready', async () => {
    // Nothing listens there: the counter waits for its broker, answering 503 meanwhile.
    const closed = await freePort();
    const { counter, port } = await startCounter(['--trace-opt'], {
      REDIS_URL: `redis://127.0.0.1:${closed}`,
      LOG_LEVEL: 'error',
    });
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { status: 503 });
    await waitFor(
      async () => {
        await hit(port, '/readyz');
        return optimized.test(counter.stdout());
      },
      { timeoutMs: 40_000, intervalMs: 0, message: 'a TurboFan compile while not ready' },
    );
    const readiness = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(readiness.status).toBe(503);
  }, 60_000);

  it("leaves TurboFan off when the user's flags say so", async () => {
    const { counter, port } = await startCounter(['--no-opt', '--trace-opt']);
    await waitForHttp(`http://127.0.0.1:${port}/readyz`);
    // Ten times the traffic that has TurboFan compile in the first test.
    for (let batch = 0; batch < 10; batch++) await hit(port, '/');
    expect(counter.stdout()).not.toMatch(optimized);
  });
});
