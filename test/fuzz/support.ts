/**
 * What the fuzz suites share: one seed for every property (printed; AGORA_TEST_SEED replays
 * it), the run bounds that keep the suites inside a minute, and a digest of what a service
 * stored, to show that a refused input changed nothing.
 */
import fc from 'fast-check';

import type { Broker } from '../../src/platform/broker/broker.js';
import type { Sql } from '../../src/platform/sql/sql.js';
import { seededRandom } from '../support/random.js';

/**
 * Each property's fast-check parameters: seeded, `numRuns` runs, and a time limit that only
 * guards against a slow machine (an interrupted run may still be writing when the next starts).
 */
export function fuzzParameters<T>(label: string, numRuns: number): fc.Parameters<T> {
  const { seed } = seededRandom(label);
  return { seed, numRuns, plugins: [fc.interruptAfterTimeLimit(20_000)] };
}

/** Every table of the service's schema (as a digest of its rows) and the streams' lengths. */
export async function storesDigest(
  stores: { sql?: Sql; broker?: Broker }[],
  streams: readonly string[] = [],
  /** Tables that change by themselves (heartbeats), left out. */
  ignored: readonly string[] = [],
): Promise<string> {
  const parts: string[] = [];
  for (const { sql, broker } of stores) {
    if (sql !== undefined) {
      const { rows: tables } = await sql.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = $1 ORDER BY table_name`,
        [sql.schema],
      );
      for (const { name } of tables.filter((table) => !ignored.includes(table.name))) {
        // Table names come from the catalogue, never from generated input.
        const { rows } = await sql.query<{ digest: string }>(
          `SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS digest
           FROM "${name}" x`,
        );
        parts.push(`${name}=${rows[0]?.digest ?? ''}`);
      }
    }
    if (broker !== undefined) {
      for (const stream of streams) parts.push(`${stream}=${await broker.streamLength(stream)}`);
    }
  }
  return parts.join(' ');
}

/** Text a fuzzer sends: any Unicode, control characters, quotes, SQL, very long runs. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\u202e',
    '\u200b',
    "'; DROP TABLE tasks;--",
    '0x10',
    '1e309',
    '-1',
    'NaN',
    '9'.repeat(40),
    '%00',
    '../../etc/passwd',
    'a'.repeat(5000),
  ),
);

/** A JSON value of any shape, mostly small, sometimes with hostile strings. */
export const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    hostileText,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(hostileText, fc.constantFrom('title', 'done', 'vote', 'id')),
      tie('value'),
      {
        maxKeys: 5,
      },
    ),
  ),
})).value;
