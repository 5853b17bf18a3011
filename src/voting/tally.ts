/**
 * The arithmetic of a batch, without a database: keep each voter's newest vote, decide which
 * stored votes it overwrites, and how many counts move between options.
 */
import { type CastVote, isLater, type StreamPosition } from './cast-vote.js';
import { type Tally, type VoteOption, voteOptions } from './protocol.js';

/** A voter's row in `votes` as the batch found it. */
export interface StoredVote extends StreamPosition {
  voterId: string;
  vote: VoteOption;
}

/** How much each option's count changes. */
export type TallyDeltas = Record<VoteOption, number>;

/**
 * Each voter's newest vote of the batch, sorted by voter id in code-unit order, the order in
 * which vote-store locks rows (COLLATE "C"), so concurrent batches rarely deadlock.
 */
export function collapseToNewest(votes: readonly CastVote[]): CastVote[] {
  const newest = new Map<string, CastVote>();
  for (const vote of votes) {
    const seen = newest.get(vote.voterId);
    if (seen === undefined || isLater(vote, seen)) newest.set(vote.voterId, vote);
  }
  // The default sort is code-unit order, whatever the locale, and faster than a comparator.
  const voterIds = [...newest.keys()].sort();
  return voterIds.map((voterId) => newest.get(voterId) as CastVote);
}

export interface OverwritePlan {
  /** Votes later than the stored ones, to write over them. */
  overwrite: CastVote[];
  /** Counts moved by those overwrites (a changed option moves one from old to new). */
  deltas: TallyDeltas;
}

/**
 * Compares incoming votes of voters already stored with their stored rows. A vote not later
 * than the stored one (a redelivery, or an older entry committed late) changes nothing.
 */
export function planOverwrites(
  incoming: readonly CastVote[],
  stored: ReadonlyMap<string, StoredVote>,
): OverwritePlan {
  const deltas = noDeltas();
  const overwrite: CastVote[] = [];
  for (const vote of incoming) {
    const current = stored.get(vote.voterId);
    if (current === undefined) {
      throw new Error(`voter ${vote.voterId} has no stored vote to compare with`);
    }
    if (!isLater(vote, current)) continue;
    overwrite.push(vote);
    if (vote.vote !== current.vote) {
      deltas[current.vote] -= 1;
      deltas[vote.vote] += 1;
    }
  }
  return { overwrite, deltas };
}

/** One count for each first-time voter's option. */
export function deltasOfNewVoters(votes: readonly VoteOption[]): TallyDeltas {
  const deltas = noDeltas();
  for (const vote of votes) deltas[vote] += 1;
  return deltas;
}

export function addDeltas(a: TallyDeltas, b: TallyDeltas): TallyDeltas {
  const sum = noDeltas();
  for (const option of voteOptions) sum[option] = a[option] + b[option];
  return sum;
}

/** The options whose count changes, in a fixed order, with their changes. */
export function changedOptions(deltas: TallyDeltas): { options: VoteOption[]; changes: number[] } {
  const options = voteOptions.filter((option) => deltas[option] !== 0);
  return { options, changes: options.map((option) => deltas[option]) };
}

/** The tally from `vote_tally` rows (int8 arrives as a string); a missing option counts 0. */
export function tallyOf(rows: readonly { option: VoteOption; votes: string | number }[]): Tally {
  const counts = noDeltas();
  for (const row of rows) counts[row.option] = Number(row.votes);
  return { counts, total: voteOptions.reduce((total, option) => total + counts[option], 0) };
}

function noDeltas(): TallyDeltas {
  return { a: 0, b: 0 };
}
