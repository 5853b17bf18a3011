/**
 * Runs the SQL contract against both drivers (real Postgres and in-memory PGlite), then what
 * only one driver has: PGlite's data directory, pg's lost connections and an absent server.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { SqlUnavailableError } from '../../src/platform/errors.js';
import { migrateWhenReady, MigrationError } from '../../src/platform/sql/migrations.js';
import { PgSql } from '../../src/platform/sql/pg.js';
import { PgliteSql } from '../../src/platform/sql/pglite.js';
import type { SqlQueryable } from '../../src/platform/sql/sql.js';
import { testDatabaseUrl, uniqueName } from '../support/backends.js';
import { openMemoryPglite } from '../support/pglite.js';
import { freePort } from '../support/processes.js';
import { describeSqlContract } from './sql-contract.js';

describeSqlContract('pg', (schema) => Promise.resolve(new PgSql({ url: testDatabaseUrl, schema })));
describeSqlContract('pglite', openMemoryPglite);

describe('PgliteSql with a data directory', () => {
  it('keeps its data across close and reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agora-pglite-'));
    const dataDir = join(dir, 'not-yet-made');
    try {
      const first = await PgliteSql.open({ dataDir, schema: 'agora' });
      expect(first.location).toBe(dataDir);
      await first.query('CREATE TABLE notes (body text)');
      await first.query('INSERT INTO notes VALUES ($1)', ['kept']);
      await first.close();

      const second = await PgliteSql.open({ dataDir, schema: 'agora' });
      try {
        expect((await second.query('SELECT body FROM notes')).rows).toEqual([{ body: 'kept' }]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('PgliteSql from a dump', () => {
  it('starts from what the dump holds, and refuses a dump beside a data directory', async () => {
    const source = await PGlite.create();
    await source.exec(
      "CREATE SCHEMA kept; CREATE TABLE kept.notes (body text); INSERT INTO kept.notes VALUES ('dumped')",
    );
    const dump = await source.dumpDataDir('none');
    await source.close();

    const sql = await PgliteSql.open({ schema: 'kept', loadDataDir: dump });
    try {
      expect((await sql.query('SELECT body FROM notes')).rows).toEqual([{ body: 'dumped' }]);
    } finally {
      await sql.close();
    }

    const dataDir = join(tmpdir(), uniqueName('pglite-never-made'));
    await expect(PgliteSql.open({ dataDir, loadDataDir: dump })).rejects.toThrow(
      /loadDataDir is for a database in memory/,
    );
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('PgSql', () => {
  it('rejects a schema name that is not a plain lower-case identifier', () => {
    for (const schema of ['x"; DROP SCHEMA public; --', 'Agora', '1st', '']) {
      expect(() => new PgSql({ url: testDatabaseUrl, schema })).toThrow(/invalid schema name/);
    }
  });

  it('names its location without the password', async () => {
    const sql = new PgSql({ url: 'postgres://agora:s3cret@db.example:5432/agora' });
    expect(sql.location).toBe('postgres://agora@db.example:5432/agora');
    await sql.close();
  });

  it('replaces an idle connection that Postgres terminated, without crashing', async () => {
    let reportFailure: () => void = () => undefined;
    const failureReported = new Promise<void>((resolve) => {
      reportFailure = resolve;
    });
    const logger = pino(
      { level: 'warn' },
      {
        write: (line: string) => {
          if (line.includes('idle Postgres connection')) reportFailure();
        },
      },
    );
    const sql = new PgSql({ url: testDatabaseUrl, schema: uniqueName('sql'), poolSize: 1, logger });
    try {
      const before = await backendPid(sql);
      await terminate(before);
      await failureReported;
      expect(await backendPid(sql)).not.toBe(before);
    } finally {
      await sql.query(`DROP SCHEMA "${sql.schema}" CASCADE`);
      await sql.close();
    }
  });

  it('fails a transaction whose connection is terminated as unavailable, then recovers', async () => {
    const sql = new PgSql({ url: testDatabaseUrl, schema: uniqueName('sql'), poolSize: 1 });
    try {
      await expect(
        sql.transaction(async (tx) => {
          await terminate(await backendPid(tx));
          await tx.query('SELECT 1');
        }),
      ).rejects.toBeInstanceOf(SqlUnavailableError);
      expect((await sql.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await sql.query(`DROP SCHEMA "${sql.schema}" CASCADE`);
      await sql.close();
    }
  });

  it('rethrows a bad migration from migrateWhenReady at once instead of waiting', async () => {
    const sql = new PgSql({ url: testDatabaseUrl, schema: uniqueName('sql') });
    const waits: string[] = [];
    try {
      const broken = [{ version: 1, name: 'broken', sql: 'CREATE TABLE oops (' }];
      await expect(
        migrateWhenReady(sql, 'notes', broken, { onWaiting: (reason) => waits.push(reason) }),
      ).rejects.toBeInstanceOf(MigrationError);
      expect(waits).toEqual([]);
    } finally {
      await sql.query(`DROP SCHEMA "${sql.schema}" CASCADE`);
      await sql.close();
    }
  });
});

describe('PgSql when nothing listens at its address', () => {
  async function absent(): Promise<PgSql> {
    return new PgSql({ url: `postgres://postgres@127.0.0.1:${await freePort()}/test` });
  }

  it('rejects ping, queries and transactions with SqlUnavailableError', async () => {
    const sql = await absent();
    try {
      await expect(sql.ping()).rejects.toBeInstanceOf(SqlUnavailableError);
      await expect(sql.query('SELECT 1')).rejects.toBeInstanceOf(SqlUnavailableError);
      await expect(sql.transaction(() => Promise.resolve())).rejects.toBeInstanceOf(
        SqlUnavailableError,
      );
    } finally {
      await sql.close();
    }
  });

  it('keeps migrateWhenReady waiting, saying why, until its signal aborts', async () => {
    const sql = await absent();
    const stop = new AbortController();
    const waits: string[] = [];
    const onWaiting = (reason: string) => {
      waits.push(reason);
      if (waits.length === 3) stop.abort(new Error('stopped by the test'));
    };
    try {
      const migrations = [{ version: 1, name: 'notes', sql: 'CREATE TABLE notes (body text)' }];
      await expect(
        migrateWhenReady(sql, 'notes', migrations, { signal: stop.signal, onWaiting }),
      ).rejects.toThrow('stopped by the test');
      expect(waits).toHaveLength(3);
      expect(waits[0]).toMatch(/notes migrations wait for the database: .*not answering/);
    } finally {
      await sql.close();
    }
  });
});

async function backendPid(sql: SqlQueryable): Promise<number> {
  const { rows } = await sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]?.pid ?? 0;
}

/** Ends one server process as an administrator would; returns once it is gone. */
async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: testDatabaseUrl });
  await admin.connect();
  try {
    // The timeout (Postgres 14+) makes it wait until the process has exited.
    await admin.query('SELECT pg_terminate_backend($1, 5000)', [pid]);
  } finally {
    await admin.end();
  }
}
