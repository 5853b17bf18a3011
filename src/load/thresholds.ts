/**
 * Pass/fail criteria for CI: `--max-p99` and `--max-failures` (0 when not given), checked
 * against the final report, and the exit code they (and the verification) give the run.
 */
import { notSentRoute } from './histogram.js';
import type { LoadReport } from './report.js';

export type FailureLimit = { kind: 'count'; count: number } | { kind: 'percent'; percent: number };

export interface Thresholds {
  /** Every route's p99, in milliseconds, must be at most this. */
  maxP99Ms?: number;
  maxFailures?: FailureLimit;
}

export interface ThresholdCheck {
  threshold: 'max-p99' | 'max-failures';
  ok: boolean;
  /** One line saying what was compared, e.g. "p99 of vote: 12.5 ms <= 50 ms". */
  description: string;
}

export const exitCodes = {
  passed: 0,
  thresholdBreached: 1,
  verificationFailed: 3,
  /** 128 + SIGINT, as shells report a run stopped by Ctrl-C. */
  interrupted: 130,
} as const;

/** Parses `--max-failures`: a count ("10") or a share of all requests ("0.5%"). */
export function parseFailureLimit(raw: string): FailureLimit {
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(raw.trim());
  const value = Number(match?.[1]);
  if (match === null || !Number.isFinite(value)) {
    throw new Error('expected a count (10) or a percentage (0.5%).');
  }
  if (match[2] === '%') {
    if (value > 100) throw new Error('a percentage must be at most 100%.');
    return { kind: 'percent', percent: value };
  }
  if (!Number.isInteger(value)) throw new Error('a count must be a whole number.');
  return { kind: 'count', count: value };
}

const noFailures: FailureLimit = { kind: 'count', count: 0 };

export function checkThresholds(report: LoadReport, thresholds: Thresholds): ThresholdCheck[] {
  const checks: ThresholdCheck[] = [];
  const { maxP99Ms } = thresholds;
  // A failure fails the run unless --max-failures allows it: no run with failures passes
  // because nobody thought to set a limit.
  const maxFailures = thresholds.maxFailures ?? noFailures;
  if (maxP99Ms !== undefined) {
    const measured = report.routes.filter(
      (route) => route.route !== notSentRoute && route.requests > 0,
    );
    for (const route of measured) {
      const ok = route.latencyMs.p99 <= maxP99Ms;
      checks.push({
        threshold: 'max-p99',
        ok,
        description: `p99 of ${route.route}: ${route.latencyMs.p99} ms ${ok ? '<=' : '>'} ${maxP99Ms} ms`,
      });
    }
  }
  checks.push(failureCheck(report, maxFailures));
  return checks;
}

function failureCheck(report: LoadReport, limit: FailureLimit): ThresholdCheck {
  const { failed, requests } = report.total;
  const share = requests === 0 ? 0 : (failed / requests) * 100;
  const shown = `${failed} of ${requests} (${Math.round(share * 100) / 100}%)`;
  const ok = limit.kind === 'count' ? failed <= limit.count : share <= limit.percent;
  const bound = limit.kind === 'count' ? String(limit.count) : `${limit.percent}%`;
  return {
    threshold: 'max-failures',
    ok,
    description: `failures: ${shown} ${ok ? '<=' : '>'} ${bound}`,
  };
}

/** A failed verification outranks a breached threshold, which outranks an interruption. */
export function exitCodeOf(report: LoadReport): number {
  if (report.verification !== undefined && !report.verification.ok) {
    return exitCodes.verificationFailed;
  }
  if (report.thresholds.some((check) => !check.ok)) return exitCodes.thresholdBreached;
  if (report.stoppedBy === 'interrupted') return exitCodes.interrupted;
  return exitCodes.passed;
}
