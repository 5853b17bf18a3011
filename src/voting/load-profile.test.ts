/** The arithmetic of `agora load voting`'s verification: what the tally may hold after a run. */
import { describe, expect, it } from 'vitest';

import { type CastVote, tallyBounds, tallyDifferences } from './load-profile.js';

const none = { a: 0, b: 0 };
const vote = (voterId: string | undefined, sequence: number, option: 'a' | 'b'): CastVote => ({
  voterId,
  sequence,
  option,
});

describe('tallyBounds', () => {
  it('counts each voter once, for the vote it sent last, on top of the tally before the run', () => {
    const acknowledged = [vote('v1', 1, 'b'), vote('v1', 0, 'a'), vote('v2', 0, 'a')];
    expect(tallyBounds({ a: 10, b: 3 }, { acknowledged, unconfirmed: [] })).toEqual({
      a: { min: 11, max: 11 },
      b: { min: 4, max: 4 },
    });
  });

  it('lets an unconfirmed vote of a known voter count for either of its options', () => {
    const record = { acknowledged: [vote('v1', 0, 'a')], unconfirmed: [vote('v1', 1, 'b')] };
    expect(tallyBounds(none, record)).toEqual({ a: { min: 0, max: 1 }, b: { min: 0, max: 1 } });
  });

  it('lets an unanswered first vote count once or not at all', () => {
    const record = { acknowledged: [], unconfirmed: [vote(undefined, 0, 'b')] };
    expect(tallyBounds(none, record)).toEqual({ a: { min: 0, max: 0 }, b: { min: 0, max: 1 } });
  });
});

describe('tallyDifferences', () => {
  it('accepts a stored tally within the bounds', () => {
    const bounds = { a: { min: 4, max: 6 }, b: { min: 2, max: 2 } };
    expect(tallyDifferences(bounds, { a: 5, b: 2 })).toEqual([]);
  });

  it('names each option outside its bounds and by how much', () => {
    const bounds = { a: { min: 4, max: 6 }, b: { min: 2, max: 2 } };
    expect(tallyDifferences(bounds, { a: 8, b: 1 })).toEqual([
      'option a: expected 4 to 6, stored 8 (2 too many)',
      'option b: expected 2, stored 1 (1 missing)',
    ]);
  });
});
