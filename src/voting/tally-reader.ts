/**
 * Reading the tally the worker keeps: two rows, whatever the number of votes.
 */
import type { SqlQueryable } from '../platform/sql/sql.js';
import { voteOptions, type Tally, type VoteOption } from './protocol.js';

export async function readTally(sql: SqlQueryable): Promise<Tally> {
  const { rows } = await sql.query<{ option: VoteOption; votes: string }>(
    'SELECT option, votes FROM vote_tally',
  );
  const counts = { a: 0, b: 0 };
  for (const row of rows) counts[row.option] = Number(row.votes);
  return { counts, total: counts.a + counts.b };
}

export interface OptionResult {
  option: VoteOption;
  label: string;
  votes: number;
  /** Share of all votes, 0 to 100, one decimal; 50/50 when nobody voted yet. */
  percent: number;
}

export interface Results {
  options: OptionResult[];
  total: number;
  /** "N votes", or "1 vote". */
  totalText: string;
}

export function resultsOf(tally: Tally, labels: Record<VoteOption, string>): Results {
  return {
    options: voteOptions.map((option) => ({
      option,
      label: labels[option],
      votes: tally.counts[option],
      percent:
        tally.total === 0 ? 50 : Math.round((1000 * tally.counts[option]) / tally.total) / 10,
    })),
    total: tally.total,
    totalText: `${tally.total} ${tally.total === 1 ? 'vote' : 'votes'}`,
  };
}

export function isTally(value: unknown): value is Tally {
  const tally = value as Partial<Tally> | null;
  return (
    typeof tally?.total === 'number' &&
    typeof tally.counts?.a === 'number' &&
    typeof tally.counts.b === 'number'
  );
}
