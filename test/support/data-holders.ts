/**
 * Redis and Postgres of a test's own, on their own ports and data directories, for the chaos
 * tests that crash what holds the data: Redis SIGKILLed and started again on its AOF, Postgres
 * stopped with `pg_ctl stop -m immediate` (a crash: no checkpoint, recovery from the WAL at the
 * next start) and started again. Never the machine's shared instances.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import pg from 'pg';

import { freePort, type ManagedProcess, startProcess, waitFor } from './processes.js';

export interface OwnRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: no shutdown, no final AOF flush beyond what Redis wrote before each reply. */
  crash(): Promise<void>;
  /** Starts it again on the same port and AOF; resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  remove(): Promise<void>;
}

/** A redis-server with the AOF on (`appendfsync` everysec unless told) in a directory of its own. */
export async function startOwnRedis(
  options: { appendfsync?: 'everysec' | 'always' } = {},
): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'agora-own-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let server: ManagedProcess | undefined;
  const start = async () => {
    server = startProcess(
      'redis-server',
      Object.entries({
        port,
        bind: '127.0.0.1',
        dir,
        save: '',
        appendonly: 'yes',
        appendfsync: options.appendfsync ?? 'everysec',
        daemonize: 'no',
      }).flatMap(([name, value]) => [`--${name}`, String(value)]),
      { cwd: dir },
    );
    await server.waitForOutput(/Ready to accept connections/, 15_000);
    await waitFor(() => ping(url), { timeoutMs: 10_000, message: `Redis at ${url} to answer` });
  };
  await start();
  return {
    url,
    port,
    async crash() {
      server?.kill('SIGKILL');
      await server?.exited;
    },
    start,
    async remove() {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } finally {
    client.disconnect();
  }
}

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:<port>/test */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop -m immediate`: every server process quits at once, as in a crash. */
  crash(): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it answers. */
  start(): Promise<void>;
  remove(): Promise<void>;
}

/** A Postgres cluster of the test's own (initdb), started; `test` is its database. */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = postgresBin();
  // initdb and postgres refuse to run as root; as root they run as the `postgres` user.
  const owner: { uid?: number; gid?: number } = process.getuid?.() === 0 ? postgresUser() : {};
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'agora-own-pg-'));
  if (owner.uid !== undefined && owner.gid !== undefined) chownSync(dir, owner.uid, owner.gid);
  const dataDir = join(dir, 'data');
  const initdb = startProcess(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
    { cwd: dir, ...owner },
  );
  const init = await initdb.exited;
  if (init.code !== 0) throw new Error(`initdb failed:\n${initdb.output()}`);

  const url = `postgres://postgres@127.0.0.1:${port}/test`;
  let server: ManagedProcess | undefined;
  const start = async () => {
    // fsync off: a process crash keeps what the OS was handed either way, which is the crash
    // these tests make; durability against a machine crash is Postgres's own business.
    server = startProcess(
      join(bin, 'postgres'),
      ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'].concat(
        ['fsync=off', 'max_connections=200'].flatMap((setting) => ['-c', setting]),
      ),
      { cwd: dir, ...owner },
    );
    await waitFor(() => answers(url), {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: () => `the test's own Postgres to answer:\n${server?.output() ?? ''}`,
    });
  };
  await start();
  return {
    url,
    port,
    async crash() {
      const stop = startProcess(join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate'], {
        cwd: dir,
        ...owner,
      });
      const exit = await stop.exited;
      if (exit.code !== 0) throw new Error(`pg_ctl stop -m immediate failed:\n${stop.output()}`);
      await server?.exited;
    },
    start,
    async remove() {
      server?.kill('SIGQUIT');
      await server?.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether Postgres at `url` answers; creates the database on first contact. */
async function answers(url: string): Promise<boolean> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.href, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = 'test'");
    if (found.rowCount === 0) await client.query('CREATE DATABASE test');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error(
    'Postgres is missing (no /usr/lib/postgresql/*/bin/pg_ctl): apt-get install postgresql',
  );
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
