/**
 * The SQL that applies a batch of votes: one READ COMMITTED transaction that upserts each
 * voter's newest vote and moves the tally with it, so `vote_tally` always equals a fresh count
 * of `votes`, however many workers commit at once and however often an entry is redelivered.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../platform/backoff.js';
import type { Sql, SqlQueryable } from '../platform/sql/sql.js';
import type { CastVote } from './cast-vote.js';
import type { Tally, VoteOption } from './protocol.js';
import {
  addDeltas,
  changedOptions,
  collapseToNewest,
  deltasOfNewVoters,
  planOverwrites,
  tallyOf,
  type StoredVote,
} from './tally.js';

export interface AppliedBatch {
  /** Rows inserted or overwritten; redelivered and superseded votes are not counted. */
  written: number;
  /** The tally as this transaction left it. */
  tally: Tally;
}

/** SQLSTATEs after which the whole transaction may simply run again. */
const retryableCodes = new Set(['40P01', '40001']);
const maxAttempts = 8;

/** Applies `votes` (in any order, duplicates allowed) in one transaction, retried on deadlock. */
export async function applyBatch(sql: Sql, votes: readonly CastVote[]): Promise<AppliedBatch> {
  const newest = collapseToNewest(votes);
  for (let attempt = 0; ; attempt++) {
    try {
      return await sql.transaction((tx) => applyNewest(tx, newest));
    } catch (error) {
      if (!isRetryable(error) || attempt + 1 >= maxAttempts) throw error;
      await sleep(backoffDelay(attempt, { initialMs: 10, maxMs: 500 }));
    }
  }
}

async function applyNewest(tx: SqlQueryable, newest: readonly CastVote[]): Promise<AppliedBatch> {
  if (newest.length === 0) return { written: 0, tally: await selectTally(tx) };

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
  return { written, tally: await selectTally(tx) };
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

function columnsOf(votes: readonly CastVote[]): string[][] {
  return [
    votes.map((vote) => vote.voterId),
    votes.map((vote) => vote.vote),
    votes.map((vote) => vote.streamMs.toString()),
    votes.map((vote) => vote.streamSeq.toString()),
  ];
}

function isRetryable(error: unknown): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    retryableCodes.has(error.code)
  );
}
