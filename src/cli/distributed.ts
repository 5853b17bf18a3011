/**
 * `agora up --distributed`: one OS process per service replica on loopback, each running
 * `agora run <service>` against real Redis and Postgres (replicas of a service declared
 * `scaling: 'shared-port'` are one `agora run <service> --cluster N` on one port). It checks
 * those answer first, reports a process that dies (restarting is the platform's job: Compose,
 * Kubernetes), and on Ctrl-C stops every process it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { openBroker } from '../platform/broker/index.js';
import type { Env } from '../platform/config.js';
import { UsageError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { redisUrlOf } from '../platform/platform-settings.js';
import { adminPortOf, portForUp } from '../platform/ports.js';
import type { ServiceDefinition } from '../platform/service.js';
import { openSql } from '../platform/sql/index.js';
import { formatTable } from '../platform/table.js';
import { prepare } from './in-process.js';
import { waitUntilReady } from './readiness-wait.js';

const defaultRedisUrl = 'redis://127.0.0.1:6379';
const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const cliPath = fileURLToPath(new URL('./main.js', import.meta.url));

export interface DistributedOptions {
  env: Env;
  replicas: ReadonlyMap<string, number>;
}

interface Replica {
  label: string;
  port: number;
  /** Where its /readyz answers: the admin port of a service that has one. */
  healthPort: number;
  child: ChildProcess;
}

export async function runDistributed(
  definitions: readonly ServiceDefinition[],
  options: DistributedOptions,
): Promise<void> {
  const { config, logger } = prepare(definitions, options.env);
  const needs = new Set(definitions.flatMap((definition) => definition.needs));

  const childEnv: Record<string, string | undefined> = { ...options.env };
  if (needs.has('broker')) {
    const url = redisUrlOf(config);
    childEnv.REDIS_URL = url ?? defaultRedisUrl;
    await requireBackend({
      name: 'Redis',
      variable: 'REDIS_URL',
      url: childEnv.REDIS_URL,
      isDefault: url === undefined,
      open: (redisUrl) => Promise.resolve(openBroker({ url: redisUrl })),
    });
  }
  if (needs.has('sql')) {
    childEnv.DATABASE_URL = config.databaseUrl ?? defaultDatabaseUrl;
    await requireBackend({
      name: 'Postgres',
      variable: 'DATABASE_URL',
      url: childEnv.DATABASE_URL,
      isDefault: config.databaseUrl === undefined,
      open: (databaseUrl) => openSql({ url: databaseUrl }),
    });
  }
  childEnv.LOG_FORMAT = config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  // The table says what started; the processes' own lines are what goes wrong afterwards.
  childEnv.LOG_LEVEL = options.env.LOG_LEVEL ?? 'warn';

  const replicas: Replica[] = [];
  for (const definition of definitions) {
    const count = options.replicas.get(definition.name) ?? 1;
    if (count > 1 && definition.scaling === 'shared-port') {
      // One port for every replica: node:cluster workers under one `agora run --cluster`.
      const port = portForUp(definition, options.env);
      const label = `${definition.name}x${count}`;
      const child = spawn(
        process.execPath,
        [cliPath, 'run', definition.name, '--port', String(port), '--cluster', String(count)],
        { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prefixLines(child, label);
      replicas.push({
        label,
        port,
        healthPort: adminPortOf(definition, options.env, port) ?? port,
        child,
      });
      continue;
    }
    for (let index = 0; index < count; index++) {
      const port = portForUp(definition, options.env) + index;
      const label = count > 1 ? `${definition.name}#${index + 1}` : definition.name;
      const child = spawn(
        process.execPath,
        [cliPath, 'run', definition.name, '--port', String(port)],
        {
          env: { ...childEnv, AGORA_REPLICA: String(index + 1) },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      prefixLines(child, label);
      replicas.push({
        label,
        port,
        healthPort: adminPortOf(definition, options.env, port) ?? port,
        child,
      });
    }
  }

  let stopping = false;
  let alive = replicas.length;
  for (const { label, child } of replicas) {
    child.on('exit', (code, signal) => {
      alive -= 1;
      if (stopping) return;
      logger.error(
        { process: label, childPid: child.pid, code, signal },
        `${label} died; not restarting it`,
      );
      if (alive === 0) {
        logger.error('every process has died; stopping');
        process.exit(1);
      }
    });
  }

  const stopped = new AbortController();
  const stopAll = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    stopped.abort();
    logger.info({ signal }, 'stopping every process');
    await Promise.all(
      replicas.map(({ child }) => stopChild(child, config.shutdownTimeoutMs, logger)),
    );
    process.exit(0);
  };
  process.on('SIGINT', (signal) => void stopAll(signal));
  process.on('SIGTERM', (signal) => void stopAll(signal));

  // The table comes once every process answers ready, as in one process.
  await waitUntilReady(
    replicas.map(({ label, healthPort, child }) => ({
      name: label,
      readiness: () => readinessOf(healthPort, child),
    })),
    logger,
    stopped.signal,
  );
  // A signal may have come while waiting (TypeScript cannot see the handler set it).
  if (stopped.signal.aborted) return;
  const rows = replicas.map(({ label, port, child }) => [
    label,
    `http://127.0.0.1:${port}`,
    String(child.pid ?? '-'),
  ]);
  const backends = [childEnv.REDIS_URL, childEnv.DATABASE_URL].filter((url) => url !== undefined);
  process.stdout.write(
    `${formatTable(['process', 'url', 'pid'], rows)}\n` +
      `backends: ${backends.map(safeUrl).join(', ')}\n` +
      'Agora is up; Ctrl-C stops everything.\n',
  );
}

/** What a replica's /readyz says; one that has exited has nothing left to wait for. */
async function readinessOf(
  port: number,
  child: ChildProcess,
): Promise<{ ready: boolean; checks: Record<string, string> }> {
  if (child.exitCode !== null || child.signalCode !== null) return { ready: true, checks: {} };
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, {
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await response.json()) as { checks?: Record<string, string> };
    return { ready: response.ok, checks: body.checks ?? {} };
  } catch {
    return { ready: false, checks: { process: 'not answering yet' } };
  }
}

interface RequiredBackend {
  name: 'Redis' | 'Postgres';
  variable: 'REDIS_URL' | 'DATABASE_URL';
  url: string;
  isDefault: boolean;
  open(url: string): Promise<{ ping(): Promise<void>; close(): Promise<void> }>;
}

/** Refuses to start, in one line, when a backend the services need does not answer. */
async function requireBackend(backend: RequiredBackend): Promise<void> {
  const handle = await backend.open(backend.url);
  try {
    await handle.ping();
  } catch (error) {
    const source = backend.isDefault ? `the default; set ${backend.variable}` : backend.variable;
    throw new UsageError(
      `--distributed needs ${backend.name}, and nothing answers at ${safeUrl(backend.url)} (${source}): ${reason(error)}`,
    );
  } finally {
    await handle.close();
  }
}

function safeUrl(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

function reason(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof AggregateError && cause.errors[0] instanceof Error) {
    return cause.errors[0].message; // pg reports a refused IPv4 and IPv6 dial together
  }
  if (cause instanceof Error && cause.message !== '') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function prefixLines(child: ChildProcess, label: string): void {
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    if (stream === null) continue;
    createInterface({ input: stream }).on('line', (line) => out.write(`[${label}] ${line}\n`));
  }
}

/** SIGTERM, then SIGKILL if it has not exited within the shutdown deadline. */
async function stopChild(child: ChildProcess, timeoutMs: number, logger: Logger): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    logger.warn({ pid: child.pid }, 'did not stop in time; killing it');
    child.kill('SIGKILL');
  }, timeoutMs);
  await exited;
  clearTimeout(timer);
}
