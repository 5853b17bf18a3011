/**
 * The check after `agora load election`: every acknowledged ballot id is in Postgres exactly
 * once, with the fields that were sent. Ballots acknowledged by the Redis route are durable in
 * the stream but reach Postgres a moment later, so missing ones are asked for again until a
 * deadline. Unconfirmed ballots may or may not be stored; either is fine, twice is not.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { VerificationResult } from '../../load/scenario.js';
import type { SqlQueryable } from '../../platform/sql/index.js';
import { type Ballot, ballotFields } from '../ballot.js';
import { findSummaryDrift } from '../ballot-store.js';

/** Ids per query: `id = ANY($1)` with a parameter array, never string-built SQL. */
const idsPerQuery = 5_000;

/**
 * Where the check reads what is stored: the database itself (`sqlBallotsReader`), or the
 * running election-api (`apiBallotsReader`), which is the only way in to an embedded PGlite
 * that the running stack holds open.
 */
export interface StoredBallotsReader {
  /** The stored rows of `ids`, with how many rows each id has. */
  read(ids: readonly string[]): Promise<StoredRow[]>;
  /** One line per summary row that differs from a fresh aggregate of `ballots`. */
  summaryDrift(): Promise<string[]>;
  /** Which store was read, for the report: "embedded PGlite, through election-api at ...". */
  describe(): Promise<string>;
}

export interface StoredBallotsCheck {
  /** Every ballot the services acknowledged (one entry per send: retries reuse ids). */
  acknowledged: readonly Ballot[];
  /** Ballots whose send ended without an answer: stored at most once, or not at all. */
  unconfirmed: readonly Ballot[];
  deadline: number;
  pollIntervalMs: number;
  signal: AbortSignal;
}

export interface StoredRow extends Record<(typeof ballotFields)[number], string> {
  id: string;
  copies: number;
}

/** Reads the acknowledged ids until all are stored or the deadline passes, then compares. */
export async function verifyStoredBallots(
  store: StoredBallotsReader,
  check: StoredBallotsCheck,
): Promise<VerificationResult> {
  const expected = new Map<string, Ballot>();
  for (const ballot of check.acknowledged) expected.set(ballot.id, ballot);
  const found = new Map<string, StoredRow>();
  let waiting = [...expected.keys()];
  for (;;) {
    for (const row of await store.read(waiting)) found.set(row.id, row);
    waiting = waiting.filter((id) => !found.has(id));
    if (waiting.length === 0 || Date.now() >= check.deadline || check.signal.aborted) break;
    await sleep(check.pollIntervalMs, undefined, { signal: check.signal }).catch(() => undefined);
  }

  const differences: string[] = [];
  for (const id of waiting) differences.push(`ballot ${id}: acknowledged, not stored`);
  for (const [id, row] of found) {
    if (row.copies !== 1) differences.push(`ballot ${id}: stored ${row.copies} times`);
    const sent = expected.get(id);
    const changed = ballotFields.filter(
      (field) => sent !== undefined && sent[field] !== row[field],
    );
    if (changed.length > 0)
      differences.push(`ballot ${id}: stored with other ${changed.join(', ')}`);
  }
  const unconfirmedIds = [...new Set(check.unconfirmed.map((ballot) => ballot.id))].filter(
    (id) => !expected.has(id),
  );
  const unconfirmedRows = await store.read(unconfirmedIds);
  for (const row of unconfirmedRows) {
    if (row.copies !== 1) differences.push(`ballot ${row.id}: stored ${row.copies} times`);
  }
  if (waiting.length > 0) {
    differences.push('some ballots were still missing when the wait ended (--settle-timeout)');
  }
  return {
    ok: differences.length === 0,
    checked: expected.size,
    expected: { ballots: expected.size, unconfirmed: unconfirmedIds.length },
    stored: {
      ballots: found.size,
      missing: waiting.length,
      unconfirmedStored: unconfirmedRows.length,
    },
    differences,
  };
}

/** Reads the database directly: for election-api itself, and for `--database-url`. */
export function sqlBallotsReader(sql: SqlQueryable, described: string): StoredBallotsReader {
  return {
    read: (ids) => readStoredBallots(sql, ids),
    summaryDrift: () => findSummaryDrift(sql),
    describe: () => Promise.resolve(described),
  };
}

/** The stored rows of `ids`, with how many rows each id has (1, unless the key is broken). */
export async function readStoredBallots(
  sql: SqlQueryable,
  ids: readonly string[],
): Promise<StoredRow[]> {
  const rows: StoredRow[] = [];
  for (let start = 0; start < ids.length; start += idsPerQuery) {
    const chunk = ids.slice(start, start + idsPerQuery);
    const result = await sql.query<StoredRow>(
      `SELECT id, min(sede) AS sede, min(municipio) AS municipio,
              min(departamento) AS departamento, min(papeleta) AS papeleta,
              min(partido) AS partido, count(*)::int AS copies
         FROM ballots WHERE id = ANY($1::text[]) GROUP BY id`,
      [chunk],
    );
    rows.push(...result.rows);
  }
  return rows;
}
