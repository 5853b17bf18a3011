/**
 * Latency and outcome counts per route: an HDR histogram over the whole run, and one per
 * second for the live view and the report's timeline.
 */
import { build, type Histogram } from 'hdr-histogram-js';

/** Requests the generator never sent (over the in-flight cap) are counted under this route. */
export const notSentRoute = '(not sent)';
/** Requests whose scenario threw instead of returning an outcome. */
export const unroutedRoute = '(unrouted)';

/** Distinct failure reasons kept per route; the rest are counted as "other". */
const maxReasonsPerRoute = 20;

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Counts and latency (milliseconds) of one route, or of all routes together. */
export interface RouteSummary {
  route: string;
  requests: number;
  ok: number;
  failed: number;
  failures: Record<string, number>;
  latencyMs: LatencySummary;
}

export interface SecondSummary {
  /** Seconds since the start, counting from 1: this summary covers the second before it. */
  second: number;
  total: RouteSummary;
  routes: RouteSummary[];
}

class RouteCounts {
  requests = 0;
  ok = 0;
  readonly failures = new Map<string, number>();
  readonly latency: Histogram = newHistogram();

  constructor(readonly route: string) {}

  record(ok: boolean, reason: string, latencyMs: number | undefined): void {
    this.requests += 1;
    if (ok) this.ok += 1;
    else {
      const key =
        this.failures.has(reason) || this.failures.size < maxReasonsPerRoute ? reason : 'other';
      this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
    }
    // Microseconds, so sub-millisecond local calls keep their resolution.
    if (latencyMs !== undefined)
      this.latency.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }

  addTo(other: RouteCounts): void {
    other.requests += this.requests;
    other.ok += this.ok;
    for (const [reason, count] of this.failures) {
      other.failures.set(reason, (other.failures.get(reason) ?? 0) + count);
    }
    other.latency.add(this.latency);
  }

  summary(): RouteSummary {
    return {
      route: this.route,
      requests: this.requests,
      ok: this.ok,
      failed: this.requests - this.ok,
      failures: Object.fromEntries(this.failures),
      latencyMs: summariseLatency(this.latency),
    };
  }

  destroy(): void {
    this.latency.destroy();
  }
}

function newHistogram(): Histogram {
  return build({ numberOfSignificantValueDigits: 3, autoResize: true });
}

function summariseLatency(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const ms = (micros: number) => Math.round(micros) / 1000;
  return {
    p50: ms(histogram.getValueAtPercentile(50)),
    p95: ms(histogram.getValueAtPercentile(95)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
  };
}

/** Everything measured during one run. */
export class LoadStats {
  private readonly routes: string[];
  private readonly run = new Map<string, RouteCounts>();
  private second = new Map<string, RouteCounts>();
  private readonly seconds: SecondSummary[] = [];

  constructor(routes: readonly string[]) {
    this.routes = [...routes];
  }

  /** One finished (or never sent) request; `latencyMs` is absent when nothing was sent. */
  record(route: string, ok: boolean, reason: string, latencyMs?: number): void {
    if (!this.routes.includes(route)) this.routes.push(route);
    countsFor(this.run, route).record(ok, reason, latencyMs);
    countsFor(this.second, route).record(ok, reason, latencyMs);
  }

  /** Closes the current second, keeps its summary for the timeline and returns it. */
  closeSecond(): SecondSummary {
    const current = this.second;
    this.second = new Map();
    const summary: SecondSummary = {
      second: this.seconds.length + 1,
      total: mergeSummary(current.values()),
      routes: this.orderedSummaries(current),
    };
    for (const counts of current.values()) counts.destroy();
    this.seconds.push(summary);
    return summary;
  }

  /** The whole run so far, per route (in the scenario's order) and all routes together. */
  summary(): { total: RouteSummary; routes: RouteSummary[] } {
    return { total: mergeSummary(this.run.values()), routes: this.orderedSummaries(this.run) };
  }

  timeline(): readonly SecondSummary[] {
    return this.seconds;
  }

  private orderedSummaries(counts: Map<string, RouteCounts>): RouteSummary[] {
    return this.routes.map((route) => (counts.get(route) ?? new RouteCounts(route)).summary());
  }
}

function countsFor(map: Map<string, RouteCounts>, route: string): RouteCounts {
  let counts = map.get(route);
  if (counts === undefined) {
    counts = new RouteCounts(route);
    map.set(route, counts);
  }
  return counts;
}

function mergeSummary(parts: Iterable<RouteCounts>): RouteSummary {
  const total = new RouteCounts('total');
  for (const part of parts) part.addTo(total);
  const summary = total.summary();
  total.destroy();
  return summary;
}
