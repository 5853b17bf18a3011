/**
 * The batch arithmetic without a database: entry parsing, newest vote per voter, and how
 * counts move for new voters, changed votes, repeated votes and late, older entries.
 */
import { describe, expect, it } from 'vitest';

import { type CastVote, isLater, parseVoteEntry } from './cast-vote.js';
import type { VoteOption } from './protocol.js';
import {
  addDeltas,
  changedOptions,
  collapseToNewest,
  deltasOfNewVoters,
  planOverwrites,
  type StoredVote,
  tallyOf,
} from './tally.js';

function cast(voterId: string, vote: VoteOption, id: string): CastVote {
  const parsed = parseVoteEntry({ id, fields: { voter_id: voterId, vote, cast_at: '1' } });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.item;
}

function stored(voterId: string, vote: VoteOption, id: string): Map<string, StoredVote> {
  const { streamMs, streamSeq } = cast(voterId, vote, id);
  return new Map([[voterId, { voterId, vote, streamMs, streamSeq }]]);
}

describe('parseVoteEntry', () => {
  it('reads a vote entry and its stream position', () => {
    expect(
      parseVoteEntry({ id: '1700000000000-3', fields: { voter_id: 'v1', vote: 'b' } }),
    ).toEqual({
      ok: true,
      item: {
        entryId: '1700000000000-3',
        voterId: 'v1',
        vote: 'b',
        streamMs: 1700000000000n,
        streamSeq: 3n,
      },
    });
  });

  it.each([
    [{ vote: 'a' }, 'voter_id is missing'],
    [{ voter_id: 'x y', vote: 'a' }, 'is not a voter id'],
    [{ voter_id: 'v1' }, 'vote is missing'],
    [{ voter_id: 'v1', vote: 'c' }, '"c" is not an option'],
  ])('refuses %j, saying why', (fields, reason) => {
    const parsed = parseVoteEntry({ id: '1-0', fields });
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toContain(reason);
  });

  it('orders positions by milliseconds, then sequence', () => {
    expect(isLater(cast('v', 'a', '2-0'), cast('v', 'a', '1-9'))).toBe(true);
    expect(isLater(cast('v', 'a', '1-10'), cast('v', 'a', '1-9'))).toBe(true);
    expect(isLater(cast('v', 'a', '1-9'), cast('v', 'a', '1-9'))).toBe(false);
  });
});

describe('collapseToNewest', () => {
  it("keeps each voter's last entry, whatever order the batch arrives in", () => {
    const newest = collapseToNewest([
      cast('v2', 'a', '5-0'),
      cast('v1', 'a', '1-0'),
      cast('v1', 'b', '3-0'),
      cast('v2', 'b', '4-1'),
      cast('v1', 'a', '2-0'),
    ]);
    expect(newest.map((vote) => [vote.voterId, vote.vote, vote.entryId])).toEqual([
      ['v1', 'b', '3-0'],
      ['v2', 'a', '5-0'],
    ]);
  });

  it('sorts voters by code unit, the order rows are locked in', () => {
    const ids = collapseToNewest([
      cast('b', 'a', '1-0'),
      cast('B', 'a', '1-1'),
      cast('a', 'a', '1-2'),
      cast('_', 'a', '1-3'),
    ]).map((vote) => vote.voterId);
    expect(ids).toEqual(['B', '_', 'a', 'b']);
  });

  it('collapses a redelivered entry to one vote', () => {
    expect(collapseToNewest([cast('v1', 'a', '1-0'), cast('v1', 'a', '1-0')])).toHaveLength(1);
  });
});

describe('planOverwrites', () => {
  it('moves one count from the old option to the new when a vote changes', () => {
    const plan = planOverwrites([cast('v1', 'b', '2-0')], stored('v1', 'a', '1-0'));
    expect(plan.overwrite.map((vote) => vote.entryId)).toEqual(['2-0']);
    expect(plan.deltas).toEqual({ a: -1, b: 1 });
  });

  it('rewrites the position but moves nothing when the same option is voted again', () => {
    const plan = planOverwrites([cast('v1', 'a', '2-0')], stored('v1', 'a', '1-0'));
    expect(plan.overwrite).toHaveLength(1);
    expect(plan.deltas).toEqual({ a: 0, b: 0 });
  });

  it('ignores an entry older than the stored vote', () => {
    const plan = planOverwrites([cast('v1', 'b', '1-0')], stored('v1', 'a', '2-0'));
    expect(plan.overwrite).toEqual([]);
    expect(plan.deltas).toEqual({ a: 0, b: 0 });
  });

  it('ignores the very entry that is already stored (a redelivery)', () => {
    const plan = planOverwrites([cast('v1', 'b', '2-0')], stored('v1', 'b', '2-0'));
    expect(plan.overwrite).toEqual([]);
    expect(plan.deltas).toEqual({ a: 0, b: 0 });
  });
});

describe('tally deltas', () => {
  it('counts one for each new voter', () => {
    expect(deltasOfNewVoters(['a', 'b', 'a'])).toEqual({ a: 2, b: 1 });
  });

  it('adds and lists only the options that change', () => {
    const sum = addDeltas({ a: 2, b: 0 }, { a: -1, b: 0 });
    expect(sum).toEqual({ a: 1, b: 0 });
    expect(changedOptions(sum)).toEqual({ options: ['a'], changes: [1] });
    expect(changedOptions({ a: 0, b: 0 })).toEqual({ options: [], changes: [] });
  });

  it('reads the tally from int8 rows, every option present', () => {
    expect(tallyOf([{ option: 'b', votes: '7' }])).toEqual({ counts: { a: 0, b: 7 }, total: 7 });
  });
});
