/**
 * A server under test, run as a child process so it has its own event loop (and core), as a
 * service in production does: started, awaited until its readiness URL answers, stopped.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The bundled `agora` command the benchmarks start (dist/bench/support -> dist/cli). */
export const agoraCli = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export interface ServerProcess {
  /** Where wrk sends its requests. */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export interface ServerOptions {
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Where to send requests once ready. */
  url: string;
  /** Polled until it answers 200. */
  readyUrl: string;
  readyTimeoutMs?: number;
  /** How often to poll `readyUrl` (default 100 ms; the start-up benchmark polls finer). */
  pollMs?: number;
}

/** Starts `node <args>` and resolves once `readyUrl` answers 200. */
export async function startServer(name: string, options: ServerOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, options.args, {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Kept for the error message when it fails to start; a running server's logs are dropped.
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    });
    child.once('error', (error) => {
      output += error.message;
      exitCode ??= null;
      resolve();
    });
  });

  const stop = async () => {
    if (exitCode !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  let last = 'no answer yet';
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`${name} exited (code ${exitCode}) before it was ready:\n${output}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready at ${options.readyUrl} in time (${last}):\n${output}`);
    }
    try {
      const response = await fetch(options.readyUrl, { signal: AbortSignal.timeout(2_000) });
      const body = await response.text();
      if (response.status === 200) break;
      // A service's /readyz names what it waits for (Redis, Postgres, ...).
      last = `status ${response.status}: ${body.slice(0, 300)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(options.pollMs ?? 100);
  }
  if (child.pid === undefined) throw new Error(`${name} has no pid`);
  return { url: options.url, pid: child.pid, stop };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}
