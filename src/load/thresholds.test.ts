import { describe, expect, it } from 'vitest';

import type { LoadReport, RouteReport } from './report.js';
import { checkThresholds, exitCodeOf, parseFailureLimit } from './thresholds.js';

function route(name: string, requests: number, failed: number, p99: number): RouteReport {
  return {
    route: name,
    requests,
    ok: requests - failed,
    failed,
    failures: {},
    rps: 0,
    latencyMs: { p50: p99 / 2, p95: p99, p99, max: p99, mean: p99 / 2 },
  };
}

function report(routes: RouteReport[], extra: Partial<LoadReport> = {}): LoadReport {
  const requests = routes.reduce((sum, one) => sum + one.requests, 0);
  const failed = routes.reduce((sum, one) => sum + one.failed, 0);
  return {
    scenario: 'test',
    target: 'http://127.0.0.1/',
    model: { kind: 'closed', users: 1, thinkTimeMs: { min: 0, max: 0 } },
    startedAt: new Date(0).toISOString(),
    elapsedSeconds: 1,
    stoppedBy: 'total',
    abandoned: 0,
    acknowledged: 0,
    unconfirmed: 0,
    total: route('total', requests, failed, Math.max(...routes.map((one) => one.latencyMs.p99))),
    routes,
    timeline: [],
    thresholds: [],
    ...extra,
  };
}

describe('thresholds', () => {
  it('reads --max-failures as a count or a percentage, and rejects anything else', () => {
    expect(parseFailureLimit('10')).toEqual({ kind: 'count', count: 10 });
    expect(parseFailureLimit('0.5%')).toEqual({ kind: 'percent', percent: 0.5 });
    expect(() => parseFailureLimit('ten')).toThrow('expected a count');
    expect(() => parseFailureLimit('1.5')).toThrow('whole number');
    expect(() => parseFailureLimit('101%')).toThrow('at most 100%');
  });

  it('breaches --max-p99 when any one route is slower, naming it', () => {
    const run = report([route('vote', 10, 0, 20), route('results', 10, 0, 80)]);
    const checks = checkThresholds(run, { maxP99Ms: 50 });
    expect(checks.map((check) => check.ok)).toEqual([true, false, true]);
    expect(checks[1]?.description).toBe('p99 of results: 80 ms > 50 ms');
  });

  it('compares failures as a count or as a share of all requests', () => {
    const run = report([route('vote', 200, 3, 1)]);
    expect(checkThresholds(run, { maxFailures: { kind: 'count', count: 3 } })[0]?.ok).toBe(true);
    expect(checkThresholds(run, { maxFailures: { kind: 'count', count: 2 } })[0]?.ok).toBe(false);
    expect(checkThresholds(run, { maxFailures: { kind: 'percent', percent: 1 } })[0]?.ok).toBe(
      false,
    );
    expect(checkThresholds(run, { maxFailures: { kind: 'percent', percent: 1.5 } })[0]?.ok).toBe(
      true,
    );
  });

  it('fails a run with any failure when --max-failures is not given', () => {
    const checks = checkThresholds(report([route('vote', 1_000, 507, 1)]), {});
    expect(checks).toEqual([
      { threshold: 'max-failures', ok: false, description: 'failures: 507 of 1000 (50.7%) > 0' },
    ]);
    expect(checkThresholds(report([route('vote', 10, 0, 1)]), {})[0]?.ok).toBe(true);
  });

  it('gives exit code 3 for a failed verification before 1 for a breach and 130 for an interruption', () => {
    const breach = { threshold: 'max-p99', ok: false, description: '' } as const;
    const failedVerification = { ok: false, checked: 1, differences: ['x'], differenceCount: 1 };
    const routes = [route('vote', 1, 0, 1)];
    expect(exitCodeOf(report(routes))).toBe(0);
    expect(exitCodeOf(report(routes, { stoppedBy: 'interrupted' }))).toBe(130);
    expect(exitCodeOf(report(routes, { stoppedBy: 'interrupted', thresholds: [breach] }))).toBe(1);
    expect(
      exitCodeOf(report(routes, { thresholds: [breach], verification: failedVerification })),
    ).toBe(3);
  });
});
