/**
 * Prints parts (b) and (c) of the voting benchmark as small tables on stdout. Part (a) is a
 * wrk comparison and prints with report.ts like every other one.
 */
import type { Memory } from '../support/report.js';
import type { DrainResult } from './drain.js';
import type { LatencyResult, Percentiles } from './latency.js';

export function printDrain(result: DrainResult): void {
  const rows = [
    [
      `worker (batch ${result.batchSize}, ${result.concurrency} in flight)`,
      count(result.workerRate),
      `${result.workerSeconds.toFixed(2)} s`,
      count(result.rowsStored),
      memory(result.workerMemory),
      'skipped' in result.copy ? '-' : ratio(result.workerRate / result.copy.rate),
    ],
  ];
  if (!('skipped' in result.copy)) {
    const { rate, seconds, rows: stored } = result.copy;
    rows.push([
      'COPY (psql \\copy)',
      count(rate),
      `${seconds.toFixed(2)} s`,
      count(stored),
      '-',
      '1.00x',
    ]);
  }
  const note = 'skipped' in result.copy ? `COPY skipped: ${result.copy.skipped}\n` : '';
  const check =
    result.acked === result.votes && result.tallyTotal === result.votes
      ? 'every vote acked, one row per voter, tally equal'
      : `acked ${count(result.acked)}, tally ${count(result.tallyTotal)} of ${count(result.votes)} votes`;
  const { transactions } = result;
  const inTransactions =
    transactions === undefined || result.workerSeconds === 0
      ? ''
      : `worker transactions: ${count(transactions.batches)}, mean ` +
        `${ms((1000 * transactions.seconds) / transactions.batches)}; their times add up to ` +
        `${Math.round((100 * transactions.seconds) / result.workerSeconds)}% of the drain time ` +
        `(over 100% when batches overlap; the rest: reading, acking, notifying)\n`;
  const { cpuPerRow } = result;
  const copyMicros =
    'skipped' in result.copy ? '' : `; COPY's wall time ${micros(1e6 / result.copy.rate)}`;
  const perRow =
    cpuPerRow === undefined
      ? ''
      : `CPU per row: worker ${micros(cpuPerRow.worker)}, its Postgres backends ` +
        (cpuPerRow.postgres === undefined ? 'not read' : micros(cpuPerRow.postgres)) +
        ', Redis ' +
        (cpuPerRow.redis === undefined ? 'not read' : micros(cpuPerRow.redis)) +
        `${copyMicros}\n`;
  process.stdout.write(
    `\n(b) drain: ${count(result.votes)} votes from distinct voters, one worker, empty table; ` +
      `rate from the first acked batch to the last (start-up excluded); COPY into an empty ` +
      `copy of the table (same primary key), time includes psql's start-up\n\n` +
      table(['loader', 'rows/s', 'time', 'rows stored', 'peak RSS', 'vs COPY'], rows) +
      `\n${note}${inTransactions}${perRow}check: ${check}\n`,
  );
}

export function printLatency(result: LatencyResult): void {
  const row = (name: string, p: Percentiles, samples: number) => [
    name,
    count(samples),
    ms(p.p50),
    ms(p.p90),
    ms(p.p99),
    ms(p.max),
  ];
  const visibleCount = result.accepted - result.unseen;
  process.stdout.write(
    `\n(c) vote-to-result: ${count(result.votesPerSecond)} votes/s for ${result.seconds} s, ` +
      `open loop, a new voter per vote; vote, worker (one loop: batches commit in stream ` +
      `order, which the measure needs) and result as processes\n\n` +
      table(
        ['measure', 'votes', 'p50', 'p90', 'p99', 'max'],
        [
          row('POST / 202, from planned send', result.accept, result.accepted),
          row('202 -> SSE total includes it', result.visible, visibleCount),
        ],
      ) +
      `\nsent ${count(result.sent)}, accepted ${count(result.accepted)}, ` +
      `never shown by result ${count(result.unseen)}; peak RSS: ` +
      result.memory.map((m) => `${m.service} ${memory(m.memory)}`).join(', ') +
      '\n',
  );
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => row[column]?.length ?? 0)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function ms(value: number): string {
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}

function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : '-';
}

function memory(value: Memory | undefined): string {
  return value === undefined ? '-' : `${(value.peakRssKb / 1024).toFixed(1)} MB`;
}

function micros(value: number): string {
  return `${value.toFixed(1)} µs`;
}
