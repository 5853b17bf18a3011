/**
 * Stores ballots: one READ COMMITTED statement inserts the new ones (a known id is a no-op)
 * and bumps the summary tables for exactly the rows it inserted, so the summaries always equal
 * a fresh aggregate of `ballots`, however often a ballot is retried or redelivered and however
 * many writers commit at once. After the commit it refreshes the recent list and notifies;
 * both can be recomputed, so a Redis error there is logged, never thrown.
 */
import type { Broker } from '../platform/broker/broker.js';
import { ConflictError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import {
  isSerializationFailure,
  isUniqueViolation,
  retryTransaction,
} from '../platform/sql/errors.js';
import { GroupCommit } from '../platform/sql/group-commit.js';
import type { Sql, SqlQueryable } from '../platform/sql/sql.js';
import type { Ballot, Route } from './ballot.js';
import {
  type RecentBallot,
  recentBallotsCount,
  recentBallotsKey,
  storedChannel,
  type StoredNotification,
} from './protocol.js';

export interface StoreResult {
  /** Ids inserted by this call, in the order given. */
  stored: string[];
  /** One id per ballot not inserted: already stored, or repeated earlier in the same call. */
  duplicates: string[];
}

export interface StoreOptions {
  /** Told about best-effort steps (recent list, notification) that failed, and skipped conflicts. */
  logger?: Logger;
  /**
   * A ballot whose id is stored (or repeated in the call) with other fields: `refuse` (the
   * default) throws BallotConflictError and stores nothing of the call; `skip` keeps the stored
   * one and counts it a duplicate, for the stream subscriber, which has no client to tell.
   */
  onConflict?: 'refuse' | 'skip';
  /**
   * A hint that every ballot is new (as the last batch's were): they are loaded with COPY,
   * and the idempotent insert runs instead only when one turns out to be stored already.
   */
  firstTime?: boolean;
}

const announceWarningEveryMs = 10_000;
let lastAnnounceWarning = 0;

/**
 * Every commit counts its ballots per route. A single row per route would be locked by each
 * writer until its commit, so concurrent single-ballot writes would run one at a time; a shard
 * per connection (`pg_backend_pid() % routeShards`) lets them commit side by side.
 */
const routeShards = 16;

interface InsertedRow extends Ballot {
  seq: string;
  received_at: Date;
}

/** One transaction: insert new ballots, bump the summaries for them; then recent list + notify. */
export async function storeBallots(
  sql: Sql,
  broker: Broker,
  ballots: readonly Ballot[],
  route: Route,
  options: StoreOptions = {},
): Promise<StoreResult> {
  if (ballots.length === 0) return { stored: [], duplicates: [] };
  const refuse = options.onConflict !== 'skip';
  const unique = firstOfEachId(ballots);
  const repeated = conflictsWith(ballots, new Map(unique.map((ballot) => [ballot.id, ballot])));
  if (refuse && repeated.length > 0) throw new BallotConflictError(repeated);
  const copied = options.firstTime === true ? await copyNewBallots(sql, unique, route) : undefined;
  if (copied !== undefined) {
    await announce(broker, copied, unique.length, route, options.logger);
    return splitResult(ballots, new Set(unique.map((ballot) => ballot.id)));
  }
  const inserted = await retryTransaction(sql, async (tx) => {
    const rows = await insertAndSummarize(tx, unique, route);
    // A known id: the stored ballot must be this one, else it is a conflict, not a retry.
    const known = await storedBallotsOf(tx, ballots, rows);
    const conflicts = conflictsWith(ballots, known);
    if (refuse && conflicts.length > 0) throw new BallotConflictError(conflicts);
    if (conflicts.length > 0) {
      options.logger?.warn({ ids: conflicts }, 'ballots conflict with stored ones: skipped');
    }
    return rows;
  });
  const result = splitResult(ballots, new Set(inserted.map((row) => row.id)));
  if (inserted.length > 0) await announce(broker, inserted, inserted.length, route, options.logger);
  return result;
}

/**
 * `storeBallots` for callers that send a few ballots each (gRPC `Cast`): the calls of one
 * event-loop turn are stored as one batch, so the hot summary rows are updated once per batch
 * and the recent list and notification are sent once. Each call's result is what it would
 * have been alone, after the calls before it: a ballot an earlier call of the batch stored is
 * its duplicate.
 */
export function groupedBallotStore(
  sql: Sql,
  broker: Broker,
  route: Route,
  options: StoreOptions = {},
): (ballots: readonly Ballot[]) => Promise<StoreResult> {
  const group = new GroupCommit<readonly Ballot[], StoreResult & { inserted: InsertedRow[] }>({
    sql: () => sql,
    // The store statement is the batch's only write and commits by itself: the hot summary
    // rows it locks are free once Postgres flushed the commit, with no COMMIT round trip from
    // here in between. What follows reads, and a conflict is that call's outcome.
    commit: 'statement',
    writeBatch: async (tx, calls) => {
      const all = calls.flat();
      const unique = firstOfEachId(all);
      const rows = unique.length === 0 ? [] : await insertAndSummarize(tx, unique, route);
      const byId = new Map(rows.map((row) => [row.id, row]));
      const insertedIds = new Set(byId.keys());
      // What each id holds now: inserted by this batch (the first call's) or stored before.
      const holds = new Map<string, Ballot>([...(await storedBallotsOf(tx, all, rows)), ...byId]);
      const seen = new Set<string>();
      return calls.map((ballots) => {
        const conflicts = conflictsWith(ballots, holds);
        if (conflicts.length > 0) {
          for (const { id } of ballots) seen.add(id);
          return { error: new BallotConflictError(conflicts) };
        }
        const result = splitResult(ballots, insertedIds, seen);
        const inserted = result.stored.flatMap((id) => byId.get(id) ?? []);
        return { value: { ...result, inserted } };
      });
    },
    afterCommit: async (outcomes) => {
      const inserted = outcomes.flatMap((outcome) =>
        'value' in outcome ? outcome.value.inserted : [],
      );
      if (inserted.length > 0) {
        await announce(broker, inserted, inserted.length, route, options.logger);
      }
    },
  });
  return async (ballots) => {
    const { stored, duplicates } = await group.write(ballots);
    return { stored, duplicates };
  };
}

/**
 * One statement: insert the new ballots, then add each inserted group's count to its summary
 * row. The summaries read `inserted` (RETURNING), so a ballot already stored counts nowhere.
 * Groups are upserted in sorted order and every writer runs this same statement, so writers
 * that share summary rows queue behind each other instead of deadlocking.
 */
/** The summary upserts for the rows of a CTE named `inserted`; `$route` names the route. */
function summariesOf(route: number): string {
  return `by_department AS (
    INSERT INTO party_by_department (papeleta, departamento, partido, votes)
    SELECT papeleta, departamento, partido, count(*) FROM inserted
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (papeleta, departamento, partido)
    DO UPDATE SET votes = party_by_department.votes + excluded.votes
  ), by_municipality AS (
    INSERT INTO party_by_municipality (papeleta, departamento, municipio, partido, votes)
    SELECT papeleta, departamento, municipio, partido, count(*) FROM inserted
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (papeleta, departamento, municipio, partido)
    DO UPDATE SET votes = party_by_municipality.votes + excluded.votes
  ), by_sede AS (
    INSERT INTO votes_by_sede (papeleta, departamento, municipio, sede, votes)
    SELECT papeleta, departamento, municipio, sede, count(*) FROM inserted
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (papeleta, departamento, municipio, sede)
    DO UPDATE SET votes = votes_by_sede.votes + excluded.votes
  ), by_route AS (
    INSERT INTO ballots_by_route (route, shard, ballots)
    SELECT $${route}, pg_backend_pid() % ${routeShards}, count(*) FROM inserted HAVING count(*) > 0
    ON CONFLICT (route, shard) DO UPDATE SET ballots = ballots_by_route.ballots + excluded.ballots
  )`;
}

const storeStatement = `
  WITH inserted AS (
    INSERT INTO ballots (id, sede, municipio, departamento, papeleta, partido, route)
    SELECT id, sede, municipio, departamento, papeleta, partido, $7
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
      WITH ORDINALITY AS incoming(id, sede, municipio, departamento, papeleta, partido, ord)
    ORDER BY ord
    ON CONFLICT (id) DO NOTHING
    RETURNING id, sede, municipio, departamento, papeleta, partido, seq, received_at
  ), ${summariesOf(7)}
  SELECT id, sede, municipio, departamento, papeleta, partido, seq, received_at FROM inserted`;

/**
 * After a COPY of new ballots: the same summaries, from the ballots sent again as arrays (not
 * read back from `ballots`, which would cost an index lookup per row), and the rows of `$7`,
 * the last ones copied, for the recent list.
 */
const summarizeCopiedStatement = `
  WITH inserted AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
      AS incoming(sede, municipio, departamento, papeleta, partido)
  ), ${summariesOf(6)}
  SELECT id, sede, municipio, departamento, papeleta, partido, seq, received_at
  FROM ballots WHERE id = ANY($7::text[])`;

const ballotColumns = ['id', 'sede', 'municipio', 'departamento', 'papeleta', 'partido', 'route'];

/**
 * New ballots by COPY (in id order, the insert's lock order) and their summaries, in one
 * transaction: the rows of the last few copied (the newest, as COPY numbers rows in the order
 * sent), or `undefined` when one was stored already (the COPY fails whole) or the transaction
 * lost a race, so the caller runs the idempotent insert instead.
 */
async function copyNewBallots(
  sql: Sql,
  ballots: readonly Ballot[],
  route: Route,
): Promise<InsertedRow[] | undefined> {
  try {
    return await sql.transaction(async (tx) => {
      await tx.copyFrom(
        'ballots',
        ballotColumns,
        ballots.map((b) => [
          b.id,
          b.sede,
          b.municipio,
          b.departamento,
          b.papeleta,
          b.partido,
          route,
        ]),
      );
      const { rows } = await tx.query<InsertedRow>(summarizeCopiedStatement, [
        ...fieldArrays(ballots),
        route,
        ballots.slice(-recentBallotsCount).map((b) => b.id),
      ]);
      return rows;
    });
  } catch (error) {
    if (isUniqueViolation(error) || isSerializationFailure(error)) return undefined;
    throw error;
  }
}

/** A ballot's fields but its id, one array each, in the statements' parameter order. */
function fieldArrays(ballots: readonly Ballot[]): string[][] {
  return [
    ballots.map((b) => b.sede),
    ballots.map((b) => b.municipio),
    ballots.map((b) => b.departamento),
    ballots.map((b) => b.papeleta),
    ballots.map((b) => b.partido),
  ];
}

async function insertAndSummarize(
  tx: SqlQueryable,
  ballots: readonly Ballot[],
  route: Route,
): Promise<InsertedRow[]> {
  const { rows } = await tx.query<InsertedRow>(
    storeStatement,
    [ballots.map((b) => b.id), ...fieldArrays(ballots), route],
    // One text on every batch: Postgres parses it once per connection, not per batch.
    { prepare: true },
  );
  return rows;
}

/**
 * A ballot id sent again with other fields: a client bug or a forgery, never a retry, so it is
 * refused (409, gRPC ALREADY_EXISTS) rather than answered as a harmless duplicate.
 */
export class BallotConflictError extends ConflictError {
  constructor(readonly ids: readonly string[]) {
    super(
      'ballot_conflict',
      `Ballot ${ids.map((id) => JSON.stringify(id)).join(', ')} is already stored with other ` +
        'fields; a retry must send the same ballot. Nothing of this request was stored.',
      { details: { conflicts: ids } },
    );
  }
}

const ballotFields = ['sede', 'municipio', 'departamento', 'papeleta', 'partido'] as const;

/**
 * The first ballot of each id, in id order: every writer inserts and bumps in the same order,
 * so two transactions that share ids or summary rows wait for each other, never deadlock.
 */
function firstOfEachId(ballots: readonly Ballot[]): Ballot[] {
  const first = new Map<string, Ballot>();
  for (const ballot of ballots) if (!first.has(ballot.id)) first.set(ballot.id, ballot);
  return [...first.values()].sort((a, b) => compareText(a.id, b.id));
}

/** The ids among `ballots` whose ballot in `held` has other fields. */
function conflictsWith(ballots: readonly Ballot[], held: ReadonlyMap<string, Ballot>): string[] {
  const ids = new Set<string>();
  for (const ballot of ballots) {
    const other = held.get(ballot.id);
    if (other !== undefined && ballotFields.some((field) => other[field] !== ballot[field])) {
      ids.add(ballot.id);
    }
  }
  return [...ids];
}

/** The stored ballots of the ids that this statement did not insert (`rows`: what it did). */
async function storedBallotsOf(
  tx: SqlQueryable,
  ballots: readonly Ballot[],
  rows: readonly InsertedRow[],
): Promise<Map<string, Ballot>> {
  const inserted = new Set(rows.map((row) => row.id));
  const known = [...new Set(ballots.map((b) => b.id).filter((id) => !inserted.has(id)))];
  if (known.length === 0) return new Map();
  const { rows: stored } = await tx.query<Ballot>(
    `SELECT id, sede, municipio, departamento, papeleta, partido FROM ballots
     WHERE id = ANY($1::text[])`,
    [known],
  );
  return new Map(stored.map((ballot) => [ballot.id, ballot]));
}

/** `seen`: the ids of calls before this one in the same batch, which a repeat does not store. */
function splitResult(
  ballots: readonly Ballot[],
  inserted: ReadonlySet<string>,
  seen = new Set<string>(),
): StoreResult {
  const stored: string[] = [];
  const duplicates: string[] = [];
  for (const { id } of ballots) {
    if (inserted.has(id) && !seen.has(id)) stored.push(id);
    else duplicates.push(id);
    seen.add(id);
  }
  return { stored, duplicates };
}

/**
 * The newest few of `inserted` go to the recent list (oldest first, so the newest ends on top),
 * then the notice that `stored` ballots were stored.
 */
async function announce(
  broker: Broker,
  inserted: readonly InsertedRow[],
  stored: number,
  route: Route,
  logger: Logger | undefined,
): Promise<void> {
  const newest = [...inserted].sort((a, b) => compareSeq(a.seq, b.seq)).slice(-recentBallotsCount);
  const notification: StoredNotification = { route, stored };
  try {
    // One push of the newest (oldest first, so the newest ends on top) and the notice, sent
    // together: a broker runs one connection's commands in the order sent, so it comes last.
    await Promise.all([
      broker.pushRecent(
        recentBallotsKey,
        newest.map((row) => JSON.stringify(recentOf(row, route))),
        recentBallotsCount,
      ),
      broker.publish(storedChannel, JSON.stringify(notification)),
    ]);
  } catch (error) {
    // Once per outage window at warn, not once per batch: Redis down means every call fails.
    const now = Date.now();
    const level = now - lastAnnounceWarning >= announceWarningEveryMs ? 'warn' : 'debug';
    if (level === 'warn') lastAnnounceWarning = now;
    logger?.[level]({ err: error }, 'ballots stored, but the recent list or notification failed');
  }
}

function recentOf(row: InsertedRow, route: Route): RecentBallot {
  return {
    id: row.id,
    sede: row.sede,
    municipio: row.municipio,
    departamento: row.departamento,
    papeleta: row.papeleta,
    partido: row.partido,
    route,
    receivedAt: row.received_at.toISOString(),
  };
}

/** Where the summary tables and a fresh aggregate of `ballots` differ; empty when they agree. */
export async function findSummaryDrift(sql: SqlQueryable): Promise<string[]> {
  const checks: [string, string][] = [
    [
      'party_by_department',
      `SELECT papeleta, departamento, partido, count(*) AS votes FROM ballots
       GROUP BY papeleta, departamento, partido`,
    ],
    [
      'party_by_municipality',
      `SELECT papeleta, departamento, municipio, partido, count(*) AS votes FROM ballots
       GROUP BY papeleta, departamento, municipio, partido`,
    ],
    [
      'votes_by_sede',
      `SELECT papeleta, departamento, municipio, sede, count(*) AS votes FROM ballots
       GROUP BY papeleta, departamento, municipio, sede`,
    ],
    ['ballots_by_route', 'SELECT route, count(*) AS ballots FROM ballots GROUP BY route'],
  ];
  // The route counter is sharded: compare its per-route sums, not its rows.
  const summaryOf = (table: string): string =>
    table === 'ballots_by_route'
      ? 'SELECT route, sum(ballots)::bigint AS ballots FROM ballots_by_route GROUP BY route'
      : `TABLE ${table}`;
  const drift: string[] = [];
  for (const [table, fresh] of checks) {
    const { rows } = await sql.query<{ row: string }>(
      `SELECT row_to_json(d)::text AS row FROM (
         ((${summaryOf(table)}) EXCEPT ALL (${fresh}))
         UNION ALL
         ((${fresh}) EXCEPT ALL (${summaryOf(table)}))
       ) AS d LIMIT 5`,
    );
    drift.push(...rows.map((r) => `${table}: ${r.row}`));
  }
  return drift;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareSeq(a: string, b: string): number {
  return a.length - b.length || compareText(a, b);
}
