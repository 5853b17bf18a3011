/** Prometheus metrics of the news servers: requests by operation and outcome, and latency. */
import { Counter, Histogram, type Registry } from 'prom-client';

export function requestMetrics(
  registry: Registry,
  role: 'agent' | 'node',
  knownOps: readonly string[],
) {
  const known = new Set(knownOps);
  const requests = new Counter({
    name: `news_${role}_requests_total`,
    help: `Requests answered by the news ${role}, by operation and outcome (ok or error code).`,
    labelNames: ['op', 'outcome'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: `news_${role}_request_duration_seconds`,
    help: `Time to answer one request on the news ${role}.`,
    labelNames: ['op'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  return (op: string, outcome: string, duration: number): void => {
    // Unknown operations share one label, so a client cannot grow the series without bound.
    const label = known.has(op) ? op : 'unknown';
    requests.inc({ op: label, outcome });
    seconds.observe({ op: label }, duration);
  };
}
