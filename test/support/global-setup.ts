/**
 * Vitest global setup: checks that the CLI is built and that real Redis and Postgres answer;
 * where none does at the default address, starts a throwaway one and points the tests at it.
 */
import { execFileSync } from 'node:child_process';
import {
  accessSync,
  chownSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

import { Redis } from 'ioredis';
import pg from 'pg';

import { agoraCli, freePort, type ManagedProcess, startProcess, waitFor } from './processes.js';

const defaultRedisUrl = 'redis://127.0.0.1:6379';
const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/test';

/** A server this setup started, and how to stop it and remove its files. */
interface Throwaway {
  process: ManagedProcess;
  dir: string;
  stopSignal: NodeJS.Signals;
}

export default async function setup(): Promise<() => Promise<void>> {
  if (!existsSync(agoraCli)) {
    throw new Error(`${agoraCli} is missing: run npm run build (npm test runs it first)`);
  }
  // Every `agora up` serves a console on one port; tests that want it turn it on with a port.
  process.env.AGORA_CONSOLE ??= 'false';
  const started: Throwaway[] = [];
  const results = await Promise.allSettled([ensureRedis(started), ensurePostgres(started)]);
  const failures = results.flatMap((result) =>
    result.status === 'rejected' ? [errorText(result.reason as unknown)] : [],
  );
  if (failures.length > 0) {
    await stopAll(started);
    throw new Error(failures.join('\n'));
  }
  return () => stopAll(started);
}

async function ensureRedis(started: Throwaway[]): Promise<void> {
  const configured = process.env.REDIS_URL;
  const url = configured ?? defaultRedisUrl;
  const problem = await redisProblem(url);
  if (problem === undefined) return;
  if (configured !== undefined) {
    throw new Error(`REDIS_URL=${url} does not answer (${problem}); start it, or unset REDIS_URL`);
  }
  const server = findBinary('redis-server', ['/usr/bin', '/usr/sbin']);
  if (server === undefined) {
    throw new Error(
      `no Redis answers at ${url} and redis-server is missing: apt-get install redis-server`,
    );
  }

  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'agora-redis-'));
  const child = startProcess(
    server,
    Object.entries({ port, bind: '127.0.0.1', dir, save: '', appendonly: 'no', daemonize: 'no' })
      // `--save ''` turns snapshots off: nothing of a throwaway is worth keeping.
      .flatMap(([name, value]) => [`--${name}`, String(value)]),
    { cwd: dir },
  );
  started.push({ process: child, dir, stopSignal: 'SIGTERM' });
  const throwawayUrl = `redis://127.0.0.1:${port}`;
  await untilReady(
    child,
    'Redis',
    10_000,
    async () => (await redisProblem(throwawayUrl)) === undefined,
  );
  process.env.REDIS_URL = throwawayUrl;
  announce(`no Redis at ${url} (${problem}); started a throwaway one at ${throwawayUrl}`);
}

async function ensurePostgres(started: Throwaway[]): Promise<void> {
  const configured = process.env.DATABASE_URL;
  const url = configured ?? defaultDatabaseUrl;
  const problem = await postgresProblem(url);
  if (problem === undefined) return;
  if (configured !== undefined) {
    throw new Error(
      `DATABASE_URL=${url} does not answer (${problem}); start it, or unset DATABASE_URL`,
    );
  }
  const bin = findPostgresBin();
  if (bin === undefined) {
    throw new Error(
      `no Postgres answers at ${url} and Postgres is missing: apt-get install postgresql`,
    );
  }

  // initdb and postgres refuse to run as root; as root, run them as the `postgres` user.
  const owner: { uid?: number; gid?: number } = process.getuid?.() === 0 ? postgresUser() : {};
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'agora-pg-'));
  if (owner.uid !== undefined && owner.gid !== undefined) chownSync(dir, owner.uid, owner.gid);
  const dataDir = join(dir, 'data');

  const initdb = startProcess(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
    { cwd: dir, ...owner },
  );
  const init = await initdb.exited;
  if (init.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `initdb failed (${init.error?.message ?? `exit ${init.code}`}):\n${initdb.output()}`,
    );
  }

  // Durability off: a throwaway's data never outlives the run.
  const settings = {
    listen_addresses: '127.0.0.1',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
  };
  const child = startProcess(
    join(bin, 'postgres'),
    ['-D', dataDir, '-p', String(port), '-k', dir].concat(
      Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ),
    { cwd: dir, ...owner },
  );
  // SIGINT is Postgres's "fast" shutdown: it does not wait for clients to disconnect.
  started.push({ process: child, dir, stopSignal: 'SIGINT' });
  const throwawayUrl = `postgres://postgres@127.0.0.1:${port}/test`;
  await untilReady(
    child,
    'Postgres',
    30_000,
    async () => (await postgresProblem(throwawayUrl)) === undefined,
  );
  process.env.DATABASE_URL = throwawayUrl;
  announce(`no Postgres at ${url} (${problem}); started a throwaway one at ${throwawayUrl}`);
}

/** Why Redis at `url` does not answer PING, or undefined when it does. */
async function redisProblem(url: string): Promise<string | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis rejects connect() with "Connection is closed."; the 'error' event says why.
  let cause: unknown;
  client.on('error', (error) => {
    cause ??= error;
  });
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return errorText(cause ?? error);
  } finally {
    client.disconnect();
  }
}

/**
 * Why Postgres at `url` does not answer, or undefined when it does. A server that answers but
 * lacks the database gets it created, as `createdb` would.
 */
async function postgresProblem(url: string): Promise<string | undefined> {
  try {
    await query(url, 'SELECT 1');
    return undefined;
  } catch (error) {
    if (pgErrorCode(error) !== '3D000') return errorText(error); // 3D000: invalid_catalog_name
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  try {
    await query(target.toString(), `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (error) {
    // Another setup may have created it a moment ago (42P04: duplicate_database).
    if (pgErrorCode(error) !== '42P04') return errorText(error);
  }
  return undefined;
}

async function query(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined); // a dropped connection also rejects the query
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function pgErrorCode(error: unknown): unknown {
  return error instanceof Error && 'code' in error ? error.code : undefined;
}

/** Polls `isReady` until it is true, failing early with the server's output if it exits. */
async function untilReady(
  child: ManagedProcess,
  name: string,
  timeoutMs: number,
  isReady: () => Promise<boolean>,
): Promise<void> {
  const exitedEarly = new AbortController();
  void child.exited.then((exit) => {
    const how = exit.error?.message ?? `code ${exit.code}, signal ${exit.signal}`;
    exitedEarly.abort(new Error(`the throwaway ${name} exited (${how})`));
  });
  try {
    await waitFor(isReady, {
      timeoutMs,
      intervalMs: 100,
      message: `the throwaway ${name} to answer`,
      signal: exitedEarly.signal,
    });
  } catch (error) {
    throw new Error(`${errorText(error)}\n${child.output()}`);
  }
}

async function stopAll(started: Throwaway[]): Promise<void> {
  await Promise.all(
    started.map(async ({ process: child, dir, stopSignal }) => {
      child.kill(stopSignal);
      const timer = setTimeout(() => {
        child.kill('SIGKILL', { group: true });
      }, 10_000);
      await child.exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    }),
  );
}

/** The uid and gid of the `postgres` user that Debian's postgresql package creates. */
function postgresUser(): { uid: number; gid: number } {
  try {
    const id = (flag: string) =>
      Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(
      'Postgres cannot run as root and there is no postgres user: apt-get install postgresql',
    );
  }
}

/** Debian keeps initdb and postgres in /usr/lib/postgresql/<version>/bin; take the newest. */
function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => join(root, version, 'bin'))
    : [];
  const initdb = findBinary('initdb', versions);
  return initdb === undefined ? undefined : initdb.slice(0, -'/initdb'.length);
}

/** The first executable `name` on PATH or in the extra directories. */
function findBinary(name: string, extraDirs: readonly string[]): string | undefined {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function announce(line: string): void {
  process.stderr.write(`test setup: ${line}\n`);
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorText(error.errors[0]);
  if (error instanceof Error) return error.message || error.constructor.name;
  return String(error);
}
