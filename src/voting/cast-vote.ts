/**
 * A vote as the worker applies it: one `votes` stream entry, parsed and checked, ordered by its
 * stream id so that a voter's later entry wins whatever order workers commit in.
 */
import type { StreamEntry } from '../platform/broker/broker.js';
import type { ParsedEntry } from '../platform/consumer/stream-consumer.js';
import { isVoteOption, type VoteOption, voterIdPattern } from './protocol.js';

export interface CastVote {
  /** The stream entry id, `<ms>-<seq>`, acked once the vote is committed. */
  entryId: string;
  voterId: string;
  vote: VoteOption;
  streamMs: bigint;
  streamSeq: bigint;
}

const entryIdPattern = /^\d+-\d+$/;

/** Checks an entry as vote writes it (`voteEntry()` in protocol.ts); says why when it is not. */
export function parseVoteEntry(entry: StreamEntry): ParsedEntry<CastVote> {
  // Tested, then cut at the dash: a worker parses thousands of entries per batch, and a match
  // with capture groups cost twice the test in a drain profile.
  if (!entryIdPattern.test(entry.id))
    return { ok: false, reason: `entry id ${JSON.stringify(entry.id)} is not <ms>-<seq>` };
  const dash = entry.id.indexOf('-');
  const { voter_id: voterId, vote } = entry.fields;
  if (voterId === undefined) return { ok: false, reason: 'voter_id is missing' };
  if (!voterIdPattern.test(voterId)) {
    return { ok: false, reason: `voter_id ${JSON.stringify(voterId)} is not a voter id` };
  }
  if (vote === undefined) return { ok: false, reason: 'vote is missing' };
  if (!isVoteOption(vote))
    return { ok: false, reason: `vote ${JSON.stringify(vote)} is not an option` };
  return {
    ok: true,
    item: {
      entryId: entry.id,
      voterId,
      vote,
      streamMs: BigInt(entry.id.slice(0, dash)),
      streamSeq: BigInt(entry.id.slice(dash + 1)),
    },
  };
}

/** Where a vote sits in the stream: what decides which of a voter's votes is the last. */
export interface StreamPosition {
  streamMs: bigint;
  streamSeq: bigint;
}

/** True when `a` was appended after `b`. */
export function isLater(a: StreamPosition, b: StreamPosition): boolean {
  return a.streamMs > b.streamMs || (a.streamMs === b.streamMs && a.streamSeq > b.streamSeq);
}
