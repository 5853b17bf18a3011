/**
 * A service's start-up code reaches Node's compile cache (src/cli/compile-cache.ts), so its next
 * start compiles none of it again: the bundle compiles each module's body with its chunk
 * (rolldown.config.ts, eagerModuleBodies), and a service writes the cache once it is ready, so
 * one that is SIGKILLed, which never reaches Node's own write at exit, still leaves it.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { testRedisUrl, uniqueName } from '../support/backends.js';
import {
  freePort,
  killAll,
  repoRoot,
  startAgora,
  waitFor,
  waitForHttp,
} from '../support/processes.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await killAll();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('the compile cache', () => {
  it('gets the bundled modules compiled with their chunk', async () => {
    const dir = join(repoRoot, 'dist/cli');
    const chunks = (await readdir(dir)).filter((name) => name.endsWith('.js'));
    const lazy: string[] = [];
    let eager = 0;
    for (const chunk of chunks) {
      const code = await readFile(join(dir, chunk), 'utf8');
      // An arrow function's body, which V8 would compile only when the module is required.
      if (/\b(?:__commonJSMin|__esmMin)\(\(\(/.test(code)) lazy.push(chunk);
      eager += code.match(/\b__commonJSMin\(\(function\b/g)?.length ?? 0;
    }
    expect(lazy).toEqual([]);
    // Fastify, ioredis, pino and the rest: hundreds of CommonJS modules.
    expect(eager).toBeGreaterThan(100);
  });

  it('is written once a service is ready, while it runs', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'agora-compile-cache-'));
    cleanups.push(() => rm(cacheDir, { recursive: true, force: true }));
    const port = await freePort();
    const counter = startAgora(['run', 'counter', '--port', String(port)], {
      env: {
        ...process.env,
        NODE_COMPILE_CACHE: cacheDir,
        REDIS_URL: testRedisUrl,
        AGORA_REDIS_PREFIX: `${uniqueName('compile-cache')}:`,
        LOG_LEVEL: 'warn',
      },
    });
    await waitForHttp(`http://127.0.0.1:${port}/readyz`);

    // Node itself writes the cache only at a clean exit, and this one has not exited. The
    // listing holds the folder Node names after its version, then the entries in it.
    const listing = await waitFor(
      async () => {
        const names = await readdir(cacheDir, { recursive: true });
        return names.length > 1 ? names : undefined;
      },
      { message: 'compile cache entries while the counter runs' },
    );
    expect(listing.length).toBeGreaterThan(1);
    expect(counter.exitStatus()).toBeUndefined();
    counter.kill('SIGKILL');
    await counter.exited;
  });
});
