/**
 * What the voting services agree on: the options, the `votes` stream entry, the tables, and
 * the notification a worker publishes after each commit. vote writes the stream, worker reads
 * it into Postgres, result reads the tally.
 */

export const voteOptions = ['a', 'b'] as const;
export type VoteOption = (typeof voteOptions)[number];

export function isVoteOption(value: unknown): value is VoteOption {
  return value === 'a' || value === 'b';
}

/** The queue: a Redis stream read through one consumer group by every worker. */
export const votesStream = 'votes';
export const workersGroup = 'workers';
/** Entries that cannot be parsed go here, with the reason, instead of blocking the queue. */
export const deadLetterStream = 'votes:dead';
/** Published after every commit; payload is the new tally (JSON), which can be recomputed. */
export const talliesChannel = 'votes:tally';

/** One stream entry's fields, all strings as streams store them (a type, so it is a Record). */
export type VoteEntryFields = {
  voter_id: string;
  vote: VoteOption;
  /** When vote accepted it, ms since the epoch, for vote-to-result latency. */
  cast_at: string;
};

export function voteEntry(voterId: string, vote: VoteOption, castAt: number): VoteEntryFields {
  return { voter_id: voterId, vote, cast_at: String(castAt) };
}

/** Voter ids are the vote service's signed-cookie ids: UUIDs, or the load generator's names. */
export const voterIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The tally as the worker publishes it and result serves it. */
export interface Tally {
  /** Votes per option, every option present. */
  counts: Record<VoteOption, number>;
  total: number;
}

export const votingSystem = 'voting';
