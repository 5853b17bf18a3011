import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Ballot } from '../../src/election/ballot.js';
import { sqlBallotsReader, verifyStoredBallots } from '../../src/election/load/verify.js';
import { PgSql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl, uniqueName } from '../support/backends.js';

const schema = uniqueName('electionverify');
const sql = new PgSql({ url: testDatabaseUrl, schema });

const ballot = (id: string, partido = 'UNE'): Ballot => ({
  id,
  sede: 'Salón Municipal No. 1, Cobán',
  municipio: 'Cobán',
  departamento: 'Alta Verapaz',
  papeleta: 'alcaldes',
  partido,
});

async function store(...ballots: Ballot[]) {
  for (const one of ballots) {
    await sql.query(
      `INSERT INTO ballots (id, sede, municipio, departamento, papeleta, partido)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [one.id, one.sede, one.municipio, one.departamento, one.papeleta, one.partido],
    );
  }
}

beforeAll(async () => {
  // Only the columns verification reads, without the key: a broken store can be simulated.
  await sql.query(`CREATE TABLE ballots (id text, sede text, municipio text, departamento text,
    papeleta text, partido text)`);
  await store(ballot('a'), ballot('b'), ballot('c', 'VAMOS'), ballot('d'), ballot('d'));
});

afterAll(async () => {
  await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sql.close();
});

const check = (acknowledged: Ballot[], unconfirmed: Ballot[] = []) =>
  verifyStoredBallots(sqlBallotsReader(sql, 'the test schema'), {
    acknowledged,
    unconfirmed,
    deadline: Date.now() + 300,
    pollIntervalMs: 50,
    signal: new AbortController().signal,
  });

describe('verifying stored ballots', () => {
  it('passes when every acknowledged ballot is stored once as sent, retries counted once', async () => {
    const result = await check([ballot('a'), ballot('b'), ballot('a')], [ballot('zz')]);
    expect(result).toMatchObject({ ok: true, checked: 2, differences: [] });
    expect(result.stored).toEqual({ ballots: 2, missing: 0, unconfirmedStored: 0 });
  });

  it('names each ballot that is missing, stored twice, or stored with other fields', async () => {
    const result = await check([ballot('a'), ballot('c'), ballot('d'), ballot('lost')]);
    expect(result.ok).toBe(false);
    expect(result.differences).toEqual(
      expect.arrayContaining([
        'ballot lost: acknowledged, not stored',
        'ballot c: stored with other partido',
        'ballot d: stored 2 times',
      ]),
    );
  });

  it('accepts an unconfirmed ballot stored once, not twice', async () => {
    expect((await check([], [ballot('b')])).ok).toBe(true);
    const twice = await check([], [ballot('d')]);
    expect(twice.differences).toEqual(['ballot d: stored 2 times']);
  });
});
