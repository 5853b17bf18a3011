/**
 * The behaviour every SQL driver must show, as one vitest suite run unchanged against each
 * driver (see sql.test.ts). Each test works in a schema of its own, dropped afterwards.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SqlUnavailableError, UnavailableError } from '../../src/platform/errors.js';
import {
  isSerializationFailure,
  isUniqueViolation,
  retryTransaction,
} from '../../src/platform/sql/errors.js';
import { GroupCommit, type Outcome } from '../../src/platform/sql/group-commit.js';
import { migrate, type Migration, MigrationError } from '../../src/platform/sql/migrations.js';
import type { Sql } from '../../src/platform/sql/sql.js';
import { uniqueName } from '../support/backends.js';

/** Text that would break or change a statement if it were ever spliced into the SQL. */
const hostileTexts = [
  `O'Brien said "hello"`,
  `'); DROP TABLE notes; --`,
  `SELECT * FROM notes; DELETE FROM notes WHERE true`,
  `$1 $2 ? :name %s \\ \\\\ '' ""`,
  `$$dollar$$ $tag$ quoted $tag$ E'\\x41'`,
  ``,
  `línea\nnueva\ttab ✓ 🗳️`,
];

/** Each migration writes its version to a log, so a test can count how often it ran. */
const logged: readonly Migration[] = [
  {
    version: 1,
    name: 'create the log',
    sql: 'CREATE TABLE migration_log (version integer NOT NULL); INSERT INTO migration_log VALUES (1)',
  },
  {
    version: 2,
    name: 'create notes',
    sql: 'CREATE TABLE notes (id integer PRIMARY KEY); INSERT INTO migration_log VALUES (2)',
  },
  {
    version: 3,
    name: 'give notes a body',
    sql: 'ALTER TABLE notes ADD COLUMN body text; INSERT INTO migration_log VALUES (3)',
  },
];

export function describeSqlContract(label: string, open: (schema: string) => Promise<Sql>): void {
  describe(`sql contract: ${label}`, () => {
    let sql: Sql;

    beforeEach(async () => {
      sql = await open(uniqueName('sql'));
    });

    afterEach(async () => {
      // Schema names are checked against a strict pattern when a handle opens.
      await sql.query(`DROP SCHEMA "${sql.schema}" CASCADE`);
      await sql.close();
    });

    async function logOf(): Promise<number[]> {
      const { rows } = await sql.query<{ version: number }>(
        'SELECT version FROM migration_log ORDER BY version',
      );
      return rows.map((row) => row.version);
    }

    async function recorded(system: string): Promise<{ version: number; name: string }[]> {
      const { rows } = await sql.query<{ version: number; name: string }>(
        'SELECT version, name FROM agora_migrations WHERE system = $1 ORDER BY version',
        [system],
      );
      return rows;
    }

    async function tableExists(name: string): Promise<boolean> {
      const { rows } = await sql.query<{ found: string | null }>(
        'SELECT to_regclass($1)::text AS found',
        [name],
      );
      return rows[0]?.found !== null;
    }

    it('answers ping', async () => {
      await expect(sql.ping()).resolves.toBeUndefined();
    });

    it('resolves unqualified names in its own schema', async () => {
      const { rows } = await sql.query('SELECT current_schema() AS schema');
      expect(rows).toEqual([{ schema: sql.schema }]);
      await sql.query('CREATE TABLE notes (body text)');
      const found = await sql.query(
        'SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2',
        [sql.schema, 'notes'],
      );
      expect(found.rowCount).toBe(1);
    });

    it('stores and returns parameters literally, whatever quotes, semicolons and keywords they hold', async () => {
      await sql.query('CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL)');
      for (const [id, body] of hostileTexts.entries()) {
        await sql.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [id, body]);
      }
      const { rows } = await sql.query<{ body: string }>('SELECT body FROM notes ORDER BY id');
      expect(rows.map((row) => row.body)).toEqual(hostileTexts);
      const match = await sql.query('SELECT id FROM notes WHERE body = $1', [hostileTexts[1]]);
      expect(match.rows).toEqual([{ id: 1 }]);
    });

    it('runs a prepared statement again with other parameters, alone and in a transaction', async () => {
      await sql.query('CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL)');
      const insert = 'INSERT INTO notes (id, body) VALUES ($1, $2) RETURNING id';
      const prepare = { prepare: true };
      for (const [id, body] of hostileTexts.entries()) {
        expect((await sql.query(insert, [id, body], prepare)).rows).toEqual([{ id }]);
      }
      await sql.transaction(async (tx) => {
        await tx.query(insert, [100, 'in a transaction'], prepare);
      });
      const select = 'SELECT body FROM notes WHERE id = $1';
      for (const [id, body] of [...hostileTexts.entries(), [100, 'in a transaction'] as const]) {
        expect((await sql.query(select, [id], prepare)).rows).toEqual([{ body }]);
      }
    });

    it('counts the rows each statement wrote or returned', async () => {
      await sql.query('CREATE TABLE notes (id integer PRIMARY KEY)');
      expect((await sql.query('INSERT INTO notes VALUES (1), (2), (3)')).rowCount).toBe(3);
      expect((await sql.query('UPDATE notes SET id = id + 10 WHERE id > $1', [1])).rowCount).toBe(
        2,
      );
      expect((await sql.query('DELETE FROM notes WHERE id = $1', [99])).rowCount).toBe(0);
      expect((await sql.query('SELECT id FROM notes')).rowCount).toBe(3);
      expect((await sql.query('DELETE FROM notes')).rowCount).toBe(3);
    });

    it('returns values with the JavaScript types node-postgres gives, with or without parameters', async () => {
      const select = `SELECT 42::int4 AS int4, 9007199254740993::int8 AS int8,
        (SELECT count(*) FROM (VALUES (1), (2)) AS two) AS count, 1.50::numeric AS numeric,
        0.5::float8 AS float8, true AS yes, '2024-05-06T07:08:09Z'::timestamptz AS at,
        '{"a": [1, "b"]}'::jsonb AS json, ARRAY['a', 'b'] AS list, NULL::text AS nothing`;
      const expected = {
        int4: 42,
        int8: '9007199254740993',
        count: '2',
        numeric: '1.50',
        float8: 0.5,
        yes: true,
        at: new Date('2024-05-06T07:08:09Z'),
        json: { a: [1, 'b'] },
        list: ['a', 'b'],
        nothing: null,
      };
      expect((await sql.query(select)).rows).toEqual([expected]);
      expect((await sql.query(`${select} WHERE $1::int4 = 1`, [1])).rows).toEqual([expected]);
    });

    it('runs a script of several statements when given no parameters', async () => {
      const { rows } = await sql.query(
        'CREATE TABLE numbers (n integer); INSERT INTO numbers VALUES (1), (2); SELECT sum(n)::int AS total FROM numbers',
      );
      expect(rows).toEqual([{ total: 3 }]);
    });

    it('commits a transaction whose work resolves, and returns its value', async () => {
      await sql.query('CREATE TABLE notes (id integer PRIMARY KEY)');
      const value = await sql.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1)', [1]);
        await tx.query('INSERT INTO notes VALUES ($1)', [2]);
        return 'done';
      });
      expect(value).toBe('done');
      expect((await sql.query('SELECT id FROM notes ORDER BY id')).rows).toEqual([
        { id: 1 },
        { id: 2 },
      ]);
    });

    it('rolls back everything a transaction wrote when its work throws, and rethrows', async () => {
      await sql.query('CREATE TABLE notes (id integer PRIMARY KEY)');
      const failure = new Error('the work failed');
      await expect(
        sql.transaction(async (tx) => {
          await tx.query('INSERT INTO notes VALUES ($1)', [1]);
          await tx.query('INSERT INTO notes VALUES ($1)', [2]);
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect((await sql.query('SELECT id FROM notes')).rowCount).toBe(0);
    });

    it('rolls back the whole transaction when one statement in it fails', async () => {
      await sql.query('CREATE TABLE notes (id integer PRIMARY KEY)');
      await expect(
        sql.transaction(async (tx) => {
          await tx.query('INSERT INTO notes VALUES ($1)', [1]);
          await tx.query('INSERT INTO notes VALUES ($1)', [1]);
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect((await sql.query('SELECT id FROM notes')).rowCount).toBe(0);
    });

    it('refuses to commit a transaction in which a statement failed, even if the work went on', async () => {
      await sql.query('CREATE TABLE notes (id integer PRIMARY KEY)');
      await expect(
        sql.transaction(async (tx) => {
          await tx.query('INSERT INTO notes VALUES ($1)', [1]);
          await tx.query('INSERT INTO notes VALUES ($1)', [1]).catch(() => undefined);
        }),
      ).rejects.toMatchObject({ code: '25P02' });
      expect((await sql.query('SELECT id FROM notes')).rowCount).toBe(0);
    });

    it('keeps a query made outside an open transaction out of it', async () => {
      await sql.query('CREATE TABLE notes (body text)');
      let outside: Promise<unknown> = Promise.resolve();
      await expect(
        sql.transaction(async (tx) => {
          await tx.query('INSERT INTO notes VALUES ($1)', ['inside']);
          outside = sql.query('INSERT INTO notes VALUES ($1)', ['outside']);
          await tx.query('SELECT 1');
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      await outside;
      expect((await sql.query('SELECT body FROM notes')).rows).toEqual([{ body: 'outside' }]);
    });

    it('loses no update when 100 transactions increment one row concurrently', async () => {
      await sql.query('CREATE TABLE counter (id integer PRIMARY KEY, n integer NOT NULL)');
      await sql.query('INSERT INTO counter VALUES (1, 0)');
      // Read, then write: only a row lock held on the transaction's one connection keeps this exact.
      const increment = () =>
        sql.transaction(async (tx) => {
          const { rows } = await tx.query<{ n: number }>(
            'SELECT n FROM counter WHERE id = 1 FOR UPDATE',
          );
          await tx.query('UPDATE counter SET n = $1 WHERE id = 1', [(rows[0]?.n ?? 0) + 1]);
        });
      await Promise.all(Array.from({ length: 100 }, increment));
      expect((await sql.query('SELECT n FROM counter')).rows).toEqual([{ n: 100 }]);
    });

    it('reports a unique violation with SQLSTATE 23505 and stays usable', async () => {
      await sql.query('CREATE TABLE voters (id text PRIMARY KEY)');
      await sql.query('INSERT INTO voters VALUES ($1)', ['ana']);
      await expect(sql.query('INSERT INTO voters VALUES ($1)', ['ana'])).rejects.toMatchObject({
        code: '23505',
      });
      expect((await sql.query('SELECT id FROM voters')).rows).toEqual([{ id: 'ana' }]);
    });

    it('tells a unique violation and a serialization failure apart by their SQLSTATE', async () => {
      await sql.query('CREATE TABLE voters (id text PRIMARY KEY)');
      await sql.query('INSERT INTO voters VALUES ($1)', ['ana']);
      const duplicate = await sql
        .query('INSERT INTO voters VALUES ($1)', ['ana'])
        .catch((e: unknown) => e);
      expect(isUniqueViolation(duplicate)).toBe(true);
      expect(isSerializationFailure(duplicate)).toBe(false);
      const syntax = await sql.query('SELEC 1').catch((e: unknown) => e);
      expect(isUniqueViolation(syntax)).toBe(false);
    });

    it('runs a transaction again after a serialization failure, and never after another error', async () => {
      await sql.query('CREATE TABLE notes (id integer PRIMARY KEY)');
      let runs = 0;
      const id = await retryTransaction(sql, async (tx) => {
        runs++;
        await tx.query('INSERT INTO notes VALUES ($1)', [runs]);
        // The code Postgres gives a serializable transaction that lost a race.
        if (runs < 3) throw Object.assign(new Error('lost a race'), { code: '40001' });
        return runs;
      });
      expect(id).toBe(3);
      expect((await sql.query('SELECT id FROM notes')).rows).toEqual([{ id: 3 }]);
      runs = 0;
      await expect(
        retryTransaction(sql, async (tx) => {
          runs++;
          await tx.query('INSERT INTO notes VALUES ($1)', [3]);
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect(runs).toBe(1);
    });

    it('reports a syntax error with SQLSTATE 42601', async () => {
      await expect(sql.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
      await expect(sql.query('SELEC $1', [1])).rejects.toMatchObject({ code: '42601' });
    });

    it('refuses pings and queries after close as unavailable', async () => {
      const other = await open(uniqueName('closed'));
      await other.query(`DROP SCHEMA "${other.schema}" CASCADE`);
      await other.close();
      await expect(other.ping()).rejects.toBeInstanceOf(SqlUnavailableError);
      await expect(other.query('SELECT 1')).rejects.toBeInstanceOf(SqlUnavailableError);
    });

    describe('copyFrom', () => {
      beforeEach(async () => {
        await sql.query(
          'CREATE TABLE notes (id integer PRIMARY KEY, body text, big bigint, yes boolean)',
        );
      });

      it('loads rows literally, whatever tabs, newlines, backslashes and quotes they hold', async () => {
        const rows = [
          ...hostileTexts.map((body, id) => [id, body, BigInt(id) * 10n ** 15n, id % 2 === 0]),
          [99, 'tab\there\r\nand \\N, not null', null, null],
          [100, null, '9007199254740993', true],
        ];
        expect(await sql.copyFrom('notes', ['id', 'body', 'big', 'yes'], rows)).toBe(rows.length);
        const { rows: stored } = await sql.query<{ body: string | null; big: string | null }>(
          'SELECT body, big FROM notes ORDER BY id',
        );
        expect(stored.map((row) => row.body)).toEqual([
          ...hostileTexts,
          'tab\there\r\nand \\N, not null',
          null,
        ]);
        expect(stored.at(-1)?.big).toBe('9007199254740993');
        expect(stored[2]?.big).toBe('2000000000000000');
      });

      it('copies nothing and answers 0 for no rows', async () => {
        expect(await sql.copyFrom('notes', ['id'], [])).toBe(0);
      });

      it('copies no row of a COPY in which one breaks a key (23505), and stays usable', async () => {
        await sql.query('INSERT INTO notes (id) VALUES (2)');
        await expect(sql.copyFrom('notes', ['id'], [[1], [2], [3]])).rejects.toMatchObject({
          code: '23505',
        });
        expect((await sql.query('SELECT id FROM notes')).rows).toEqual([{ id: 2 }]);
        expect(await sql.copyFrom('notes', ['id'], [[1], [3]])).toBe(2);
      });

      it('copies inside a transaction, committed or rolled back with it', async () => {
        await expect(
          sql.transaction(async (tx) => {
            await tx.copyFrom('notes', ['id'], [[1], [2]]);
            throw new Error('roll back');
          }),
        ).rejects.toThrow('roll back');
        expect((await sql.query('SELECT id FROM notes')).rowCount).toBe(0);
        const total = await sql.transaction(async (tx) => {
          await tx.copyFrom('notes', ['id'], [[1], [2]]);
          const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM notes');
          return rows[0]?.n;
        });
        expect(total).toBe(2);
      });

      it('refuses a table or column name that is not a plain identifier, before asking the database', async () => {
        await expect(sql.copyFrom('notes; DROP TABLE notes', ['id'], [[1]])).rejects.toThrow(
          /plain lower-case identifiers/,
        );
        await expect(sql.copyFrom('notes', ['id"'], [[1]])).rejects.toThrow(/identifiers/);
        expect((await sql.query('SELECT count(*)::int AS n FROM notes')).rows).toEqual([{ n: 0 }]);
      });
    });

    describe('group commit', () => {
      interface Note {
        key: string;
        body: string;
      }
      let batches: number[];

      /** Inserts notes by key; a key already stored (or earlier in the batch) is not created. */
      function noteWriter(
        options: { maxBatch?: number; commit?: 'transaction' | 'statement' } = {},
      ) {
        return new GroupCommit<Note, { created: boolean }>({
          sql: () => sql,
          ...options,
          writeBatch: async (tx, notes) => {
            batches.push(notes.length);
            const { rows } = await tx.query<{ key: string; ord: string }>(
              `INSERT INTO notes (key, body)
               SELECT key, body FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS n(key, body, ord)
               ORDER BY ord
               ON CONFLICT (key) DO NOTHING
               RETURNING key`,
              [notes.map((note) => note.key), notes.map((note) => note.body)],
            );
            const created = new Set(rows.map((row) => row.key));
            return notes.map((note): Outcome<{ created: boolean }> => {
              const first = created.delete(note.key);
              return { value: { created: first } };
            });
          },
        });
      }

      beforeEach(async () => {
        batches = [];
        await sql.query(
          "CREATE TABLE notes (key text PRIMARY KEY, body text NOT NULL CHECK (body <> 'bad'))",
        );
      });

      it('writes the concurrent writes of one turn as one batch, each answered after the commit', async () => {
        const writer = noteWriter();
        const keys = Array.from({ length: 40 }, (_, i) => `n${i}`);
        const answers = await Promise.all(
          keys.map(async (key) => {
            await writer.write({ key, body: `body of ${key}` });
            // Answered only once committed: another connection already sees the row.
            const { rowCount } = await sql.query('SELECT 1 FROM notes WHERE key = $1', [key]);
            return rowCount;
          }),
        );
        expect(answers).toEqual(keys.map(() => 1));
        expect(batches).toEqual([40]);
      });

      it('splits a turn into batches of at most maxBatch writes', async () => {
        const writer = noteWriter({ maxBatch: 16 });
        await Promise.all(
          Array.from({ length: 40 }, (_, i) => writer.write({ key: `n${i}`, body: 'x' })),
        );
        expect([...batches].sort((a, b) => a - b)).toEqual([8, 16, 16]);
        expect((await sql.query('SELECT key FROM notes')).rowCount).toBe(40);
      });

      it('fails a bad row alone: its batch-mates commit', async () => {
        const writer = noteWriter();
        const bodies = ['fine', 'bad', 'also fine', 'fine again'];
        const settled = await Promise.allSettled(
          bodies.map((body, i) => writer.write({ key: `n${i}`, body })),
        );
        expect(settled.map((result) => result.status)).toEqual([
          'fulfilled',
          'rejected',
          'fulfilled',
          'fulfilled',
        ]);
        expect(settled[1]).toMatchObject({ reason: { code: '23514' } });
        const { rows } = await sql.query<{ key: string }>('SELECT key FROM notes ORDER BY key');
        expect(rows.map((row) => row.key)).toEqual(['n0', 'n2', 'n3']);
      });

      it('keeps conflicts exact: a key sent twice in one batch, or already stored, is created once', async () => {
        const writer = noteWriter();
        await writer.write({ key: 'old', body: 'first' });
        const answers = await Promise.all(
          ['old', 'new', 'new', 'other'].map((key) => writer.write({ key, body: 'again' })),
        );
        expect(answers.map((answer) => answer.created)).toEqual([false, true, false, true]);
        expect((await sql.query('SELECT body FROM notes WHERE key = $1', ['old'])).rows).toEqual([
          { body: 'first' },
        ]);
      });

      describe("in 'statement' mode (the batch's one write commits by itself)", () => {
        it('answers each write after its commit, one statement for the batch', async () => {
          const writer = noteWriter({ commit: 'statement' });
          const keys = Array.from({ length: 30 }, (_, i) => `s${i}`);
          const answers = await Promise.all(
            keys.map(async (key) => {
              await writer.write({ key, body: `body of ${key}` });
              const { rowCount } = await sql.query('SELECT 1 FROM notes WHERE key = $1', [key]);
              return rowCount;
            }),
          );
          expect(answers).toEqual(keys.map(() => 1));
          expect(batches).toEqual([30]);
        });

        it('fails a bad row alone and keeps conflicts exact', async () => {
          const writer = noteWriter({ commit: 'statement' });
          await writer.write({ key: 'old', body: 'first' });
          const settled = await Promise.allSettled(
            [
              { key: 'old', body: 'again' },
              { key: 'new', body: 'fine' },
              { key: 'worse', body: 'bad' },
              { key: 'new', body: 'again' },
            ].map((note) => writer.write(note)),
          );
          expect(settled.map((result) => result.status)).toEqual([
            'fulfilled',
            'fulfilled',
            'rejected',
            'fulfilled',
          ]);
          expect(settled[2]).toMatchObject({ reason: { code: '23514' } });
          const created = settled.map((result) =>
            result.status === 'fulfilled' ? result.value.created : undefined,
          );
          // The two writes of 'new' were concurrent: the one retried first creates it (a batch
          // with a bad row is written again row by row, side by side).
          expect(created[0]).toBe(false);
          expect([created[1], created[3]].sort()).toEqual([false, true]);
          const { rows } = await sql.query<{ key: string }>('SELECT key FROM notes ORDER BY key');
          expect(rows.map((row) => row.key)).toEqual(['new', 'old']);
        });

        it('never writes a batch again once a statement of it committed: every caller gets the error', async () => {
          let runs = 0;
          const writer = new GroupCommit<Note, boolean>({
            sql: () => sql,
            commit: 'statement',
            writeBatch: async (tx, notes) => {
              runs++;
              await tx.query(
                'INSERT INTO notes (key, body) SELECT key, $2 FROM unnest($1::text[]) AS n(key)',
                [notes.map((note) => note.key), 'x'],
              );
              await tx.query('SELECT no_such_column FROM notes');
              return notes.map(() => ({ value: true }));
            },
          });
          const settled = await Promise.allSettled([
            writer.write({ key: 'a', body: 'x' }),
            writer.write({ key: 'b', body: 'x' }),
          ]);
          expect(settled.map((result) => result.status)).toEqual(['rejected', 'rejected']);
          expect(settled[0]).toMatchObject({ reason: { code: '42703' } });
          expect(runs).toBe(1);
          const { rows } = await sql.query<{ key: string }>('SELECT key FROM notes ORDER BY key');
          expect(rows.map((row) => row.key)).toEqual(['a', 'b']);
        });
      });

      it('answers every write of a batch with the error when the database is unavailable', async () => {
        const away = new UnavailableError('database', 'not yet');
        const writer = new GroupCommit<Note, boolean>({
          sql: () => {
            throw away;
          },
          writeBatch: () => Promise.reject(new Error('never called')),
        });
        const settled = await Promise.allSettled([
          writer.write({ key: 'a', body: 'x' }),
          writer.write({ key: 'b', body: 'x' }),
        ]);
        expect(settled).toEqual([
          { status: 'rejected', reason: away },
          { status: 'rejected', reason: away },
        ]);
      });
    });

    describe('migrate', () => {
      it('applies each migration once, in order, and records it', async () => {
        expect(await migrate(sql, 'notes', logged)).toBe(3);
        expect(await logOf()).toEqual([1, 2, 3]);
        expect(await recorded('notes')).toEqual(
          logged.map(({ version, name }) => ({ version, name })),
        );
      });

      it('applies nothing when everything is already applied', async () => {
        await migrate(sql, 'notes', logged);
        expect(await migrate(sql, 'notes', logged)).toBe(0);
        expect(await logOf()).toEqual([1, 2, 3]);
      });

      it('applies only the new versions when the list grows', async () => {
        expect(await migrate(sql, 'notes', logged.slice(0, 2))).toBe(2);
        expect(await migrate(sql, 'notes', logged)).toBe(1);
        expect(await logOf()).toEqual([1, 2, 3]);
      });

      it('keeps the versions of each system apart in one schema', async () => {
        const tallies = [{ version: 1, name: 'tallies', sql: 'CREATE TABLE tallies (n int)' }];
        expect(await migrate(sql, 'notes', logged)).toBe(3);
        expect(await migrate(sql, 'tally', tallies)).toBe(1);
        expect(await recorded('tally')).toEqual([{ version: 1, name: 'tallies' }]);
      });

      it('refuses a database holding a version this code does not know', async () => {
        await migrate(sql, 'notes', logged);
        await expect(migrate(sql, 'notes', logged.slice(0, 2))).rejects.toThrow(
          /migration 3 .*does not know/,
        );
      });

      it('refuses a migration renamed after it was applied', async () => {
        await migrate(sql, 'notes', logged);
        const renamed = logged.map((m) => (m.version === 2 ? { ...m, name: 'make notes' } : m));
        await expect(migrate(sql, 'notes', renamed)).rejects.toThrow(/changed/);
      });

      it('rejects versions that are not 1, 2, 3, ... before touching the database', async () => {
        const [first, second, third] = logged as [Migration, Migration, Migration];
        for (const list of [[first, third], [first, first], [second], [second, first]]) {
          await expect(migrate(sql, 'notes', list)).rejects.toBeInstanceOf(MigrationError);
        }
        expect(await tableExists('agora_migrations')).toBe(false);
      });

      it('applies none of the list when one migration fails', async () => {
        const broken = { version: 4, name: 'broken', sql: 'CREATE TABLE oops (' };
        await expect(migrate(sql, 'notes', [...logged, broken])).rejects.toMatchObject({
          name: 'MigrationError',
          cause: { code: '42601' },
        });
        expect(await tableExists('migration_log')).toBe(false);
        expect(await tableExists('agora_migrations')).toBe(false);
      });

      it('applies each migration exactly once when three migrate calls race', async () => {
        const applied = await Promise.all([1, 2, 3].map(() => migrate(sql, 'notes', logged)));
        expect(applied.reduce((sum, count) => sum + count, 0)).toBe(3);
        expect(await logOf()).toEqual([1, 2, 3]);
        expect(await recorded('notes')).toHaveLength(3);
      });
    });
  });
}
