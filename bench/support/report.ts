/**
 * Prints benchmark figures as a table: throughput, latency, errors and the server's memory,
 * each server compared with the baseline.
 */
import { readFileSync } from 'node:fs';

import type { Comparison, LoadSettings } from './benchmark.js';
import type { WrkResult } from './wrk.js';

export interface Memory {
  /** Resident set size now (VmRSS), in kB. */
  rssKb: number;
  /** The highest resident set size so far (VmHWM), in kB. */
  peakRssKb: number;
}

export interface Measurement {
  server: string;
  result: WrkResult;
  memory: Memory | undefined;
}

/** The memory of process `pid` from /proc (Linux only; undefined elsewhere or once it exited). */
export function readMemory(pid: number): Memory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  const memory = { rssKb: kb('VmRSS'), peakRssKb: kb('VmHWM') };
  return Number.isNaN(memory.rssKb) || Number.isNaN(memory.peakRssKb) ? undefined : memory;
}

/** Linux's USER_HZ: /proc counts CPU time in hundredths of a second. */
const ticksPerSecond = 100;

/** User + system CPU time of process `pid` so far, in ms, from /proc (Linux; undefined elsewhere). */
export function readCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // utime and stime are fields 14 and 15 of stat(5): 12 and 13 after the command name, which
    // is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isNaN(ticks) ? undefined : (ticks * 1000) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** The table, with ratios against the measurement named `baseline`, if there is one. */
export function formatReport(measurements: readonly Measurement[], baseline = 'baseline'): string {
  const base = measurements.find((m) => m.server === baseline)?.result;
  const header = [
    'server',
    'req/s',
    'p50',
    'p90',
    'p99',
    'socket errors',
    'status >= 400',
    'RSS',
    'peak RSS',
    'req/s vs baseline',
    'p99 vs baseline',
  ];
  const rows = measurements.map(({ server, result, memory }) => [
    server,
    formatCount(result.requestsPerSecond),
    formatMs(result.latencyMs.p50),
    formatMs(result.latencyMs.p90),
    formatMs(result.latencyMs.p99),
    formatCount(result.socketErrors),
    formatCount(result.errorResponses),
    memory === undefined ? '-' : formatKb(memory.rssKb),
    memory === undefined ? '-' : formatKb(memory.peakRssKb),
    base === undefined ? '-' : formatRatio(result.requestsPerSecond / base.requestsPerSecond),
    base === undefined ? '-' : formatRatio(result.latencyMs.p99 / base.latencyMs.p99),
  ]);
  return alignedTable(header, rows);
}

/** Prints the load settings, the table of medians and each round's ratios to stdout. */
export function printReport(comparison: Comparison, load: LoadSettings): void {
  const { medians, roundRatios } = comparison;
  const rounds =
    medians.length < 2
      ? ''
      : `\nreq/s vs ${medians[0]?.server ?? 'baseline'}, round by round: ` +
        medians
          .slice(1)
          .map(
            (m, index) =>
              `${m.server} ${roundRatios.map((ratios) => formatRatio(ratios[index + 1] ?? 0)).join(' ')}`,
          )
          .join('; ') +
        '\n';
  process.stdout.write(
    `wrk: ${load.threads} threads, ${load.connections} connections, ${load.rounds} rounds of ` +
      `${load.durationSeconds} s per server (alternating) after ${load.warmupSeconds} s warm-up; ` +
      `node ${process.version}; wrk and the servers share this machine; figures are each ` +
      `server's median round\n\n${formatReport(medians)}\n${rounds}`,
  );
}

/** The first column left-aligned (names), every other right-aligned (figures). */
function alignedTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => row[column]?.length ?? 0)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return column === 0 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function formatMs(ms: number): string {
  const digits = ms < 10 ? 2 : ms < 100 ? 1 : 0;
  return `${ms.toFixed(digits)} ms`;
}

function formatKb(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`;
}

function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '-';
}
