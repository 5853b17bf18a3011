/**
 * Helpers for tests that run services as OS processes: free ports, child processes with
 * captured output, polling with a deadline, and a registry that kills whatever a test left.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The `agora` command as `npm run build` bundles it (rolldown.config.ts), as users run it. */
export const agoraCli = join(repoRoot, 'dist/cli/main.js');

export interface ProcessOptions {
  /** The whole environment of the child; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user and group (needs root); Postgres refuses to run as root. */
  uid?: number;
  gid?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (for example ENOENT). */
  error?: Error;
}

export interface ManagedProcess {
  readonly pid: number | undefined;
  readonly child: ChildProcess;
  /** Resolves when the process has exited; never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** The exit once it happened, else undefined. */
  exitStatus(): ProcessExit | undefined;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved in arrival order. */
  output(): string;
  /** Sends a signal to the process, or with `group` to every process it started too. */
  kill(signal?: NodeJS.Signals, options?: { group?: boolean }): void;
  /** SIGTERM, then SIGKILL to the whole group if it has not exited within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<ProcessExit>;
  /** Resolves with the first match in the output; rejects on timeout or exit before a match. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

const running = new Set<ManagedProcess>();

/** Every port `freePort` has handed out in this test process. */
const handedOut = new Set<number>();
/** A service's admin port, unless set, is its own + 100 (src/platform/ports.ts). */
const adminPortOffset = 100;

/**
 * A TCP port that was free a moment ago on 127.0.0.1, with the ports at each offset from it
 * free too (replicas and their admin ports), and the admin port a service on it would take.
 * The kernel may give the same ephemeral port to two probes in a row, so no port, nor any of
 * its offsets, is handed out twice in one process: two services of one stack never get the
 * same port.
 */
export async function freePort(offsets: readonly number[] = []): Promise<number> {
  for (;;) {
    const port = await probePort(0);
    const others = [...new Set([...offsets, adminPortOffset])].map((offset) => port + offset);
    const run = [port, ...others];
    if (run.some((candidate) => candidate >= 65_536)) continue;
    const free = await Promise.all(others.map((candidate) => isFree(candidate)));
    // Checked and claimed in one step after the probes, so concurrent calls cannot share one.
    if (!free.every(Boolean) || run.some((candidate) => handedOut.has(candidate))) continue;
    for (const candidate of run) handedOut.add(candidate);
    return port;
  }
}

/** Resolves whether nothing listens on `port` of 127.0.0.1 right now. */
async function isFree(port: number): Promise<boolean> {
  try {
    await probePort(port);
    return true;
  } catch {
    return false;
  }
}

/** Listens on `port` (0: any) of 127.0.0.1, closes, and resolves with the port it had. */
function probePort(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        if (bound === 0) reject(new Error('could not find a free port'));
        else resolvePort(bound);
      });
    });
  });
}

export function startProcess(
  command: string,
  args: readonly string[],
  options: ProcessOptions = {},
): ManagedProcess {
  // A process group of its own lets killAll() reach grandchildren (`agora up --distributed`).
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  let exit: ProcessExit | undefined;
  let closed = false;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };

  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    output += chunk;
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    output += chunk;
    notify();
  });
  // A child that exits without reading its stdin makes our writes fail with EPIPE.
  child.stdin.on('error', () => undefined);

  const exited = new Promise<ProcessExit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolveExit(exit);
    });
    child.once('error', (error) => {
      exit ??= { code: null, signal: null, error };
      resolveExit(exit);
    });
  });
  void exited.then(() => running.delete(handle));
  // Output is complete only once stdio closes, which can be a moment after 'exit'.
  child.once('close', () => {
    closed = true;
    notify();
  });

  const signalProcess = (signal: NodeJS.Signals, group: boolean) => {
    if (child.pid === undefined || exit !== undefined) return;
    try {
      process.kill(group ? -child.pid : child.pid, signal);
    } catch {
      // Already gone between the check and the signal.
    }
  };

  const handle: ManagedProcess = {
    pid: child.pid,
    child,
    exited,
    exitStatus: () => exit,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => output,
    kill: (signal = 'SIGTERM', killOptions = {}) => {
      signalProcess(signal, killOptions.group ?? false);
    },
    stop: async (timeoutMs = 5_000) => {
      signalProcess('SIGTERM', false);
      const timer = setTimeout(() => {
        signalProcess('SIGKILL', true);
      }, timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      // Whatever it started and left behind goes too.
      if (child.pid !== undefined) killGroup(child.pid);
      return result;
    },
    waitForOutput: (pattern, timeoutMs = 15_000) =>
      new Promise((resolveMatch, reject) => {
        const finish = (error?: Error, match?: RegExpExecArray) => {
          listeners.delete(check);
          clearTimeout(timer);
          if (match !== undefined) resolveMatch(match);
          else reject(error ?? new Error('unreachable'));
        };
        const check = () => {
          const match = pattern.exec(output);
          if (match !== null) finish(undefined, match);
          else if (exit !== undefined && (closed || exit.error !== undefined)) {
            finish(
              new Error(
                `${commandLine(command, args)} ${describeExit(exit)} before printing ${String(pattern)}\n${tail(output)}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          finish(
            new Error(
              `${commandLine(command, args)} printed no ${String(pattern)} within ${timeoutMs} ms\n${tail(output)}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
  };
  running.add(handle);
  return handle;
}

/** Runs the compiled `agora` command with the same Node binary as the tests. */
export function startAgora(args: readonly string[], options: ProcessOptions = {}): ManagedProcess {
  return startProcess(process.execPath, [agoraCli, ...args], options);
}

/** Stops every process started here that is still running; use in afterEach or afterAll. */
export async function killAll(timeoutMs = 5_000): Promise<void> {
  await Promise.all([...running].map((handle) => handle.stop(timeoutMs)));
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What was awaited, for the timeout error; a function is asked when the deadline passes. */
  message?: string | (() => string);
  /** Stops waiting early: waitFor rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Calls `check` until it returns a truthy value and returns that value. A throwing check counts
 * as "not yet"; its last error is named when the deadline passes.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const { timeoutMs = 10_000, intervalMs = 50, message = 'condition', signal } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await check();
      if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const what = typeof message === 'function' ? message() : message;
      const reason = lastError === undefined ? '' : `; last error: ${errorText(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}

/** Polls `url` until it answers with `status` (200 by default); returns that response. */
export async function waitForHttp(
  url: string,
  options: { status?: number; timeoutMs?: number } = {},
): Promise<Response> {
  const { status = 200, timeoutMs = 15_000 } = options;
  let lastStatus: number | undefined;
  return waitFor(
    async () => {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.status === status) return response;
      lastStatus = response.status;
      await response.body?.cancel();
      return undefined;
    },
    {
      timeoutMs,
      intervalMs: 100,
      message: () =>
        `${url} to answer ${status}` +
        (lastStatus === undefined ? '' : ` (it last answered ${lastStatus})`),
    },
  );
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // No process left in the group.
  }
}

// A test file that crashes skips afterEach; do not leave its services running.
process.once('exit', () => {
  for (const handle of running) {
    if (handle.pid !== undefined) killGroup(handle.pid);
  }
});

function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args].join(' ');
}

function describeExit(exit: ProcessExit): string {
  if (exit.error !== undefined) return `failed to start (${exit.error.message})`;
  return exit.signal === null ? `exited with code ${exit.code}` : `was killed by ${exit.signal}`;
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A throwaway redis-server on `port` with no persistence, for tests that kill and restart it;
 * resolves once it accepts connections.
 */
export async function startPrivateRedis(port: number): Promise<ManagedProcess> {
  const redis = startProcess('redis-server', [
    '--port',
    String(port),
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await redis.waitForOutput(/Ready to accept connections/, 10_000);
  return redis;
}
