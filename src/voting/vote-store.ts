/**
 * The SQL that applies a batch of votes: one READ COMMITTED transaction that upserts each
 * voter's newest vote and moves the tally with it, so `vote_tally` always equals a fresh count
 * of `votes`, however many workers commit at once and however often an entry is redelivered.
 */
import type { CopyValue } from '../platform/sql/copy.js';
import {
  isSerializationFailure,
  isUniqueViolation,
  retryTransaction,
} from '../platform/sql/errors.js';
import type { Sql, SqlQueryable } from '../platform/sql/sql.js';
import type { CastVote } from './cast-vote.js';
import { type Tally, type VoteOption, voteOptions } from './protocol.js';
import {
  addDeltas,
  changedOptions,
  collapseToNewest,
  deltasOfNewVoters,
  planOverwrites,
  type StoredVote,
  tallyOf,
} from './tally.js';

export interface AppliedBatch {
  /** Rows inserted or overwritten; redelivered and superseded votes are not counted. */
  written: number;
  /** The tally as this transaction left it. */
  tally: Tally;
  /** Every voter of the batch was new (stored by this batch), a hint for the next batch. */
  firstTimeVoters: boolean;
}

/**
 * Applies `votes` (in any order, duplicates allowed) in one transaction, retried on deadlock.
 * When `firstTimeVoters` hints that every voter is new (as the last batch's were), it first
 * tries the fast path (`copyFirstVotes`) and falls back when a voter is known.
 */
export async function applyBatch(
  sql: Sql,
  votes: readonly CastVote[],
  { firstTimeVoters = false }: { firstTimeVoters?: boolean } = {},
): Promise<AppliedBatch> {
  const newest = collapseToNewest(votes);
  if (firstTimeVoters && newest.length > 0) {
    const applied = await copyFirstVotes(sql, newest);
    if (applied !== undefined) return applied;
  }
  return retryTransaction(sql, (tx) => applyNewest(tx, newest));
}

/** The columns a first-time voter's row is copied into, in the order `copyRow` gives. */
const copiedColumns = ['voter_id', 'vote', 'stream_ms', 'stream_seq'];

/**
 * The batch by `COPY`, when every voter in it is new: the rows (in voter order, the general
 * path's lock order) and then the tally update, in one transaction. `COPY` skips what an
 * `INSERT ... SELECT FROM unnest(...)` costs Postgres per row (parsing the array literals,
 * unnesting, the executor), about a microsecond of its CPU per row in a drain. Any voter
 * already stored makes the `COPY` fail whole with a unique violation, which rolls the
 * transaction back: then `undefined`, and the caller takes the general path (as it does after
 * a deadlock, where it retries). The tally update touches every option (adding 0 to some) so
 * RETURNING gives the whole tally.
 */
async function copyFirstVotes(
  sql: Sql,
  newest: readonly CastVote[],
): Promise<AppliedBatch | undefined> {
  const deltas = deltasOfNewVoters(newest.map((vote) => vote.vote));
  try {
    return await sql.transaction(async (tx) => {
      await tx.copyFrom('votes', copiedColumns, newest.map(copyRow));
      const { rows } = await tx.query<{ option: VoteOption; votes: string }>(
        `UPDATE vote_tally SET votes = vote_tally.votes + change.delta
         FROM unnest($1::text[], $2::bigint[]) AS change(option, delta)
         WHERE vote_tally.option = change.option
         RETURNING vote_tally.option, vote_tally.votes`,
        [voteOptions, voteOptions.map((option) => deltas[option])],
        { prepare: true },
      );
      return { written: newest.length, tally: tallyOf(rows), firstTimeVoters: true };
    });
  } catch (error) {
    if (isUniqueViolation(error) || isSerializationFailure(error)) return undefined;
    throw error;
  }
}

function copyRow(vote: CastVote): CopyValue[] {
  return [vote.voterId, vote.vote, vote.streamMs, vote.streamSeq];
}

async function applyNewest(tx: SqlQueryable, newest: readonly CastVote[]): Promise<AppliedBatch> {
  if (newest.length === 0) {
    return { written: 0, tally: await selectTally(tx), firstTimeVoters: true };
  }

  // First-time voters: the insert waits for a concurrent insert of the same voter to end, so a
  // voter missing from RETURNING is committed and visible to the next statement's snapshot.
  const { rows: inserted } = await tx.query<{ voter_id: string; vote: VoteOption }>(
    `INSERT INTO votes (voter_id, vote, stream_ms, stream_seq)
     SELECT voter_id, vote, stream_ms, stream_seq
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
       AS incoming(voter_id, vote, stream_ms, stream_seq)
     ORDER BY voter_id COLLATE "C"
     ON CONFLICT (voter_id) DO NOTHING
     RETURNING voter_id, vote`,
    columnsOf(newest),
  );
  const insertedIds = new Set(inserted.map((row) => row.voter_id));
  let deltas = deltasOfNewVoters(inserted.map((row) => row.vote));
  let written = inserted.length;

  const known = newest.filter((vote) => !insertedIds.has(vote.voterId));
  if (known.length > 0) {
    const stored = await lockStored(tx, known);
    const plan = planOverwrites(known, stored);
    if (plan.overwrite.length > 0) {
      await tx.query(
        `UPDATE votes
         SET vote = incoming.vote, stream_ms = incoming.stream_ms,
             stream_seq = incoming.stream_seq, updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
           AS incoming(voter_id, vote, stream_ms, stream_seq)
         WHERE votes.voter_id = incoming.voter_id`,
        columnsOf(plan.overwrite),
      );
    }
    deltas = addDeltas(deltas, plan.deltas);
    written += plan.overwrite.length;
  }

  // Last, so the two hot tally rows stay locked only until the commit right after.
  const { options, changes } = changedOptions(deltas);
  if (options.length > 0) {
    await tx.query(
      `UPDATE vote_tally SET votes = vote_tally.votes + change.delta
       FROM unnest($1::text[], $2::bigint[]) AS change(option, delta)
       WHERE vote_tally.option = change.option`,
      [options, changes],
    );
  }
  return {
    written,
    tally: await selectTally(tx),
    firstTimeVoters: inserted.length === newest.length,
  };
}

/** The stored rows of `votes`' voters, locked in voter order (READ COMMITTED: latest versions). */
async function lockStored(
  tx: SqlQueryable,
  votes: readonly CastVote[],
): Promise<Map<string, StoredVote>> {
  const { rows } = await tx.query<{
    voter_id: string;
    vote: VoteOption;
    stream_ms: string;
    stream_seq: string;
  }>(
    `SELECT voter_id, vote, stream_ms, stream_seq FROM votes
     WHERE voter_id = ANY($1::text[])
     ORDER BY voter_id COLLATE "C"
     FOR UPDATE`,
    [votes.map((vote) => vote.voterId)],
  );
  return new Map(
    rows.map((row) => [
      row.voter_id,
      {
        voterId: row.voter_id,
        vote: row.vote,
        streamMs: BigInt(row.stream_ms),
        streamSeq: BigInt(row.stream_seq),
      },
    ]),
  );
}

export async function selectTally(sql: SqlQueryable): Promise<Tally> {
  const { rows } = await sql.query<{ option: VoteOption; votes: string }>(
    'SELECT option, votes FROM vote_tally',
  );
  return tallyOf(rows);
}

/**
 * The batch as four array literals (`{"v1","v2"}`) for `$n::text[]` and `$n::bigint[]`. The
 * driver would build them element by element with escaping, a tenth of the worker's CPU in a
 * drain profile; voter ids, options and stream positions never hold a character that needs
 * escaping (protocol.ts, cast-vote.ts), which `plainElement` checks rather than trusts.
 */
function columnsOf(votes: readonly CastVote[]): string[] {
  const voterIds: string[] = [];
  const options: string[] = [];
  const millis: string[] = [];
  const sequences: string[] = [];
  for (const vote of votes) {
    voterIds.push(plainElement(vote.voterId));
    options.push(plainElement(vote.vote));
    millis.push(vote.streamMs.toString());
    sequences.push(vote.streamSeq.toString());
  }
  return [voterIds, options, millis, sequences].map((column) =>
    column.length === 0 ? '{}' : `{"${column.join('","')}"}`,
  );
}

const plainElementPattern = /^[A-Za-z0-9_-]+$/;

function plainElement(text: string): string {
  if (!plainElementPattern.test(text)) {
    throw new Error(`${JSON.stringify(text)} cannot be sent as a plain array element`);
  }
  return text;
}
