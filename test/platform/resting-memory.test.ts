/**
 * What a started service keeps in memory that it no longer needs: the bundle's chunks are
 * Latin-1 throughout (rolldown.config.ts), so V8 keeps each one's source one byte per
 * character; V8's optimizing compiler waits until the service is ready (src/cli/start-up.ts),
 * so a resting service has not paged TurboFan's code in. The wait lasts 10 s at most, so one
 * that waits for a dependency is not left slow, and a flag the user named stays. And a service
 * started without glibc's malloc settings runs with them all the same (src/cli/malloc-exec.ts).
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

/** The environment a running process was started with, from /proc. */
async function environmentOf(pid: number | undefined): Promise<Map<string, string>> {
  const raw = await readFile(`/proc/${String(pid)}/environ`, 'latin1');
  return new Map(
    raw
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

/** This process's environment without glibc's malloc settings, whatever the runner had. */
function withoutMallocSettings(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MALLOC_ARENA_MAX;
  delete env.GLIBC_TUNABLES;
  return env;
}

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
        ...withoutMallocSettings(),
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

  it("runs with glibc's malloc settings when started without them, as the same process", async () => {
    const { counter, port } = await startCounter([], {
      REDIS_URL: testRedisUrl,
      LOG_LEVEL: 'info',
    });
    await waitForHttp(`http://127.0.0.1:${port}/readyz`);
    const environment = await environmentOf(counter.pid);
    expect(environment.get('MALLOC_ARENA_MAX')).toBe('2');
    expect(environment.get('GLIBC_TUNABLES')).toBe('glibc.malloc.mmap_threshold=131072');
    expect(environment.get('AGORA_REDIS_PREFIX')).toContain('resting');
    // Its log, written after it executed itself again, reaches the pipe it was started with.
    expect(counter.stdout()).toContain(`"pid":${String(counter.pid)},"service":"counter"`);
  });

  it('keeps a malloc setting the user gave', async () => {
    const { counter, port } = await startCounter([], {
      REDIS_URL: testRedisUrl,
      MALLOC_ARENA_MAX: '4',
    });
    await waitForHttp(`http://127.0.0.1:${port}/readyz`);
    const environment = await environmentOf(counter.pid);
    expect(environment.get('MALLOC_ARENA_MAX')).toBe('4');
    expect(environment.get('GLIBC_TUNABLES')).toBe('glibc.malloc.mmap_threshold=131072');
  });
});
