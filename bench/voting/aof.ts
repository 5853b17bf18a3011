/**
 * Part (d) of the voting benchmark: vote's `POST /` against a Redis of the benchmark's own
 * with the AOF on, `appendfsync everysec` beside `appendfsync always`, both beside the
 * node:http baseline, so the cost of fsyncing every write before the reply shows as a ratio.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';

import { progress } from '../support/benchmark.js';
import { freePort } from '../support/server-process.js';

export type AppendFsync = 'everysec' | 'always';

export interface AofRedis {
  url: string;
  appendfsync: AppendFsync;
  stop(): Promise<void>;
}

/** A redis-server with the AOF on in a directory of its own; resolves once it answers PING. */
export async function startAofRedis(appendfsync: AppendFsync): Promise<AofRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), `agora-bench-aof-${appendfsync}-`));
  const url = `redis://127.0.0.1:${port}`;
  progress(`starting redis-server on ${url} (appendonly yes, appendfsync ${appendfsync})`);
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''].concat([
      '--appendonly',
      'yes',
      '--appendfsync',
      appendfsync,
    ]),
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  const deadline = Date.now() + 15_000;
  for (;;) {
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`redis-server (appendfsync ${appendfsync}) did not answer at ${url}`);
      }
      await sleep(100);
    } finally {
      client.disconnect();
    }
  }
  return {
    url,
    appendfsync,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
