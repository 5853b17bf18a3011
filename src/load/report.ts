/**
 * The final report of a run: built from the run's result, printed as text tables, and
 * written as JSON (also when the run was interrupted).
 */
import { rename, writeFile } from 'node:fs/promises';

import { formatTable } from '../platform/table.js';
import type { RouteSummary, SecondSummary } from './histogram.js';
import type { LoadModel, RunResult, StopReason } from './runner.js';
import type { JsonValue, VerificationResult } from './scenario.js';
import type { ThresholdCheck } from './thresholds.js';

/** Differences kept in the report; the count says how many there were in all. */
const maxDifferencesKept = 1_000;
const maxDifferencesPrinted = 20;

export interface RouteReport extends RouteSummary {
  /** Requests per second over the whole run. */
  rps: number;
}

export interface VerificationReport extends VerificationResult {
  differenceCount: number;
}

export interface LoadReport {
  scenario: string;
  target: string;
  model: LoadModel;
  startedAt: string;
  elapsedSeconds: number;
  stoppedBy: StopReason;
  /** Requests still unanswered after being aborted at the end. */
  abandoned: number;
  acknowledged: number;
  unconfirmed: number;
  total: RouteReport;
  routes: RouteReport[];
  /** One entry per second of the run, for charts after the fact. */
  timeline: readonly SecondSummary[];
  verification?: VerificationReport;
  /** Set when `--no-verify` skipped the verification. */
  verificationSkipped?: boolean;
  thresholds: ThresholdCheck[];
  exitCode?: number;
}

export function buildReport<Ack>(
  scenario: string,
  target: URL,
  model: LoadModel,
  result: RunResult<Ack>,
): LoadReport {
  const seconds = result.elapsedMs / 1000;
  const withRate = (summary: RouteSummary): RouteReport => ({
    ...summary,
    rps: seconds > 0 ? round(summary.requests / seconds) : 0,
  });
  const { total, routes } = result.stats.summary();
  return {
    scenario,
    target: target.href,
    model,
    startedAt: result.startedAt.toISOString(),
    elapsedSeconds: round(seconds),
    stoppedBy: result.stoppedBy,
    abandoned: result.abandoned,
    acknowledged: result.record.acknowledged.length,
    unconfirmed: result.record.unconfirmed.length,
    total: withRate(total),
    routes: routes.map(withRate),
    timeline: result.stats.timeline(),
    thresholds: [],
  };
}

export function verificationReport(result: VerificationResult): VerificationReport {
  return {
    ...result,
    ok: result.ok && result.differences.length === 0,
    differences: result.differences.slice(0, maxDifferencesKept),
    differenceCount: result.differences.length,
  };
}

const stopWords: Record<StopReason, string> = {
  duration: 'stopped at the end of its duration',
  total: 'stopped after its total',
  interrupted: 'interrupted',
};

/** The first line of a run's output, printed once when it starts (the report does not repeat it). */
export function formatHeader(report: Pick<LoadReport, 'scenario' | 'model' | 'target'>): string {
  return `agora load ${report.scenario}: ${describeModel(report.model)} against ${report.target}`;
}

/** The text report; `withHeader` when nothing printed the header before it (a file, --json). */
export function formatReport(report: LoadReport, { withHeader = true } = {}): string {
  const lines = [
    ...(withHeader ? [formatHeader(report)] : []),
    `started ${report.startedAt}, ${stopWords[report.stoppedBy]} after ${report.elapsedSeconds} s` +
      (report.abandoned > 0 ? `, ${report.abandoned} requests abandoned` : ''),
    '',
    formatTable(
      ['route', 'requests', 'failed', 'rps', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
      [...report.routes, report.total].map((route) => [
        route.route,
        String(route.requests),
        String(route.failed),
        String(route.rps),
        String(route.latencyMs.p50),
        String(route.latencyMs.p95),
        String(route.latencyMs.p99),
        String(route.latencyMs.max),
      ]),
    ),
  ];
  const failures = report.routes.flatMap((route) =>
    Object.entries(route.failures).map(
      ([reason, count]) => `  ${route.route}: ${reason} x ${count}`,
    ),
  );
  if (failures.length > 0) lines.push('', 'failures:', ...failures);
  lines.push('', ...formatVerification(report));
  if (report.thresholds.length > 0) {
    lines.push('', 'thresholds:');
    for (const check of report.thresholds) {
      lines.push(`  ${check.ok ? 'ok    ' : 'BREACH'} ${check.description}`);
    }
  }
  if (report.exitCode !== undefined) {
    const verdict =
      report.exitCode === 0 ? 'PASSED' : report.exitCode === 130 ? 'INTERRUPTED' : 'FAILED';
    lines.push('', `result: ${verdict} (exit code ${report.exitCode})`);
  }
  return lines.join('\n');
}

function formatVerification(report: LoadReport): string[] {
  const verification = report.verification;
  if (report.verificationSkipped === true) return ['verification: skipped (--no-verify)'];
  if (verification === undefined) return ['verification: none (this profile has no verify step)'];
  const lines = [
    `verification: ${verification.ok ? 'ok' : 'FAILED'}, ${verification.checked} acknowledged checked, ` +
      `${verification.differenceCount} differences`,
  ];
  if (verification.store !== undefined) lines.push(`  store:    ${verification.store}`);
  if (verification.expected !== undefined) lines.push(`  expected: ${json(verification.expected)}`);
  if (verification.stored !== undefined) lines.push(`  stored:   ${json(verification.stored)}`);
  for (const difference of verification.differences.slice(0, maxDifferencesPrinted)) {
    lines.push(`  - ${difference}`);
  }
  const more = verification.differenceCount - maxDifferencesPrinted;
  if (more > 0) lines.push(`  ... and ${more} more (see the JSON report)`);
  return lines;
}

export function describeModel(model: LoadModel): string {
  if (model.kind === 'open') {
    const ramp = model.rate.rampSeconds > 0 ? ` after a ${model.rate.rampSeconds} s ramp` : '';
    return `open model, ${model.rate.perSecond}/s${ramp}, at most ${model.maxInFlight} in flight`;
  }
  const { min, max } = model.thinkTimeMs;
  const think =
    max === 0
      ? 'no think time'
      : min === max
        ? `${min} ms think time`
        : `${min}-${max} ms think time`;
  return `closed model, ${model.users} users, ${think}`;
}

/** Writes the JSON report whole or not at all: a reader never sees half a file. */
export async function writeReportFile(path: string, report: LoadReport): Promise<void> {
  const partial = `${path}.${process.pid}.tmp`;
  await writeFile(partial, `${JSON.stringify(report, null, 2)}\n`);
  await rename(partial, path);
}

function json(value: JsonValue): string {
  return JSON.stringify(value);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
