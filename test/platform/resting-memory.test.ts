/**
 * What a started service keeps in memory that it no longer needs: the bundle's chunks are
 * Latin-1 throughout (rolldown.config.ts), so V8 keeps each one's source one byte per
 * character, and V8's optimizing compiler waits until the service is ready
 * (src/cli/start-up.ts), so a service at rest has not paged TurboFan's code in (nor kept
 * Sparkplug's and the regular expressions' code for what only start-up ran); 10 s at most, so
 * one that waits for a dependency is not left slow.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { testRedisUrl, uniqueName } from '../support/backends.js';
import {
  agoraCli,
  freePort,
  killAll,
  repoRoot,
  startProcess,
  waitFor,
  waitForHttp,
} from '../support/processes.js';

afterEach(() => killAll());

/** What V8's --trace-opt prints when TurboFan has compiled a function. */
const optimized = /completed optimizing .*\(target TURBOFAN\)/;

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
    const port = await freePort();
    const counter = startProcess(
      process.execPath,
      ['--trace-opt', agoraCli, 'run', 'counter', '--port', String(port)],
      {
        env: {
          ...process.env,
          REDIS_URL: testRedisUrl,
          AGORA_REDIS_PREFIX: `${uniqueName('resting')}:`,
          LOG_LEVEL: 'warn',
        },
      },
    );
    await waitForHttp(`http://127.0.0.1:${port}/readyz`);
    expect(counter.stdout()).not.toMatch(optimized);

    // Hits until V8 optimizes the request path: the hold is over once the counter is ready.
    await waitFor(
      async () => {
        await Promise.all(
          Array.from({ length: 200 }, async () => {
            const response = await fetch(`http://127.0.0.1:${port}/`);
            await response.text();
          }),
        );
        return optimized.test(counter.stdout());
      },
      { timeoutMs: 30_000, intervalMs: 0, message: 'a TurboFan compile under traffic' },
    );
  });
  it('has TurboFan back after 10 s even if the service never gets ready', async () => {
    const port = await freePort();
    const closed = await freePort();
    const counter = startProcess(
      process.execPath,
      ['--trace-opt', agoraCli, 'run', 'counter', '--port', String(port)],
      {
        env: {
          ...process.env,
          // Nothing listens there: the counter waits for its broker, answering 503 meanwhile.
          REDIS_URL: `redis://127.0.0.1:${closed}`,
          LOG_LEVEL: 'error',
        },
      },
    );
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { status: 503 });
    await waitFor(
      async () => {
        await Promise.all(
          Array.from({ length: 200 }, async () => {
            const response = await fetch(`http://127.0.0.1:${port}/readyz`);
            await response.text();
          }),
        );
        return optimized.test(counter.stdout());
      },
      { timeoutMs: 40_000, intervalMs: 0, message: 'a TurboFan compile while not ready' },
    );
    const readiness = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(readiness.status).toBe(503);
  }, 60_000);
  it("leaves TurboFan off when the user's flags say so", async () => {
    const port = await freePort();
    const counter = startProcess(
      process.execPath,
      ['--no-opt', '--trace-opt', agoraCli, 'run', 'counter', '--port', String(port)],
      {
        env: {
          ...process.env,
          REDIS_URL: testRedisUrl,
          AGORA_REDIS_PREFIX: `${uniqueName('resting')}:`,
          LOG_LEVEL: 'warn',
        },
      },
    );
    await waitForHttp(`http://127.0.0.1:${port}/readyz`);
    // As much traffic as has TurboFan compile in the test above, several times over.
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 200 }, async () => {
          const response = await fetch(`http://127.0.0.1:${port}/`);
          await response.text();
        }),
      );
    }
    expect(counter.stdout()).not.toMatch(optimized);
  });
  it('has Sparkplug and the regular expressions compile far less until it is ready', async () => {
    const traces = ['--trace-baseline-batch-compilation', '--trace-regexp-tier-up'];
    /** Sparkplug batches and regular-expression tier-ups printed by the time it is ready. */
    const compilesToReady = async (flags: readonly string[]) => {
      const port = await freePort();
      const counter = startProcess(
        process.execPath,
        [...flags, ...traces, agoraCli, 'run', 'counter', '--port', String(port)],
        {
          env: {
            ...process.env,
            REDIS_URL: testRedisUrl,
            AGORA_REDIS_PREFIX: `${uniqueName('resting')}:`,
            LOG_LEVEL: 'warn',
          },
        },
      );
      await waitForHttp(`http://127.0.0.1:${port}/readyz`);
      const output = counter.stdout();
      await counter.stop();
      return {
        batches: output.match(/Compiling current batch/g)?.length ?? 0,
        tierUps: output.match(/needs tier-up compilation/g)?.length ?? 0,
      };
    };
    // Naming the flags turns the holds off: V8's defaults all through start-up.
    const unheld = await compilesToReady(['--sparkplug', '--regexp-tier-up']);
    const held = await compilesToReady([]);
    // Node's own bootstrap and main.js's three modules still compile a few before the hold.
    expect(unheld.batches).toBeGreaterThan(held.batches * 4);
    expect(unheld.tierUps).toBeGreaterThan(held.tierUps * 4);
  });
});
