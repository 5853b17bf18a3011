/**
 * What the result page and API show: each option's votes and share, and the total in words.
 */
import { type Tally, type VoteOption, voteOptions } from './protocol.js';

export interface OptionResult {
  option: VoteOption;
  label: string;
  votes: number;
  /** Share of all votes, 0 to 100, one decimal; 0 for both while nobody has voted (not 50/50). */
  percent: number;
}

export interface Results {
  options: OptionResult[];
  total: number;
  /** "N votes", "1 vote", or "no votes yet". */
  totalText: string;
}

export function resultsOf(tally: Tally, labels: Record<VoteOption, string>): Results {
  return {
    options: voteOptions.map((option) => ({
      option,
      label: labels[option],
      votes: tally.counts[option],
      percent: tally.total === 0 ? 0 : Math.round((1000 * tally.counts[option]) / tally.total) / 10,
    })),
    total: tally.total,
    totalText:
      tally.total === 0 ? 'no votes yet' : `${tally.total} ${tally.total === 1 ? 'vote' : 'votes'}`,
  };
}
