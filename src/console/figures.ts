/**
 * A process's figures from two scrapes of its `/metrics`: memory, CPU, uptime, and, from the
 * counters' growth between the scrapes, requests per second, the error rate and the p99 of the
 * requests answered in between. Requests are HTTP requests (monitoring routes left out, so the
 * console's own scrapes do not count), news frames, gRPC calls, and items a consumer stored.
 */
import { first, type Sample, sum } from './prometheus-text.js';

export interface ProcessFigures {
  pid: number | undefined;
  uptimeSeconds: number | undefined;
  rssBytes: number | undefined;
  /** Percent of one core over the interval. */
  cpuPercent: number | undefined;
  requestsPerSecond: number | undefined;
  /** Failed share of the requests in the interval, 0 to 1; undefined without requests. */
  errorRate: number | undefined;
  p99Ms: number | undefined;
}

export interface Scrape {
  atMs: number;
  samples: readonly Sample[];
}

const monitoringRoutes = new Set(['/metrics', '/readyz', '/healthz']);
const isServed = (labels: Readonly<Record<string, string>>) =>
  !monitoringRoutes.has(labels.route ?? '');

interface Counts {
  requests: number;
  errors: number;
  /** Cumulative `le` buckets of HTTP and news latency, summed over labels. */
  buckets: Map<number, number>;
}

function countsOf(samples: readonly Sample[]): Counts {
  const requests =
    sum(samples, 'http_request_duration_seconds_count', isServed) +
    sum(samples, 'news_agent_requests_total') +
    sum(samples, 'news_node_requests_total') +
    sum(samples, 'election_grpc_calls_total') +
    sum(samples, 'voting_votes_applied_total') +
    sum(samples, 'election_subscriber_ballots_total');
  const errors =
    sum(
      samples,
      'http_request_duration_seconds_count',
      (labels) => isServed(labels) && Number(labels.status_code) >= 500,
    ) +
    sum(samples, 'news_agent_requests_total', (labels) => labels.outcome === 'internal') +
    sum(samples, 'news_node_requests_total', (labels) => labels.outcome === 'internal') +
    sum(samples, 'election_grpc_calls_total', (labels) => labels.code !== 'OK');
  const buckets = new Map<number, number>();
  for (const sample of samples) {
    const isHttp =
      sample.name === 'http_request_duration_seconds_bucket' && isServed(sample.labels);
    const isNews = /^news_(agent|node)_request_duration_seconds_bucket$/.test(sample.name);
    if (!isHttp && !isNews) continue;
    const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
  }
  return { requests, errors, buckets };
}

/** The upper bound of the bucket holding the 99th percentile of what the buckets grew by. */
export function p99FromBuckets(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): number | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const grown = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = grown.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const rank = total * 0.99;
  for (const [index, le] of bounds.entries()) {
    if ((grown[index] ?? 0) >= rank) {
      // Past the last finite bound the best we can say is that bound.
      return Number.isFinite(le) ? le : bounds.at(-2);
    }
  }
  return undefined;
}

export function figuresOf(current: Scrape, previous: Scrape | undefined): ProcessFigures {
  const { samples } = current;
  const pidLabel = samples.find((sample) => sample.name === 'agora_process_info')?.labels.pid;
  const startedAt = first(samples, 'process_start_time_seconds');
  const figures: ProcessFigures = {
    pid: pidLabel === undefined ? undefined : Number(pidLabel),
    uptimeSeconds:
      startedAt === undefined ? undefined : Math.max(0, current.atMs / 1000 - startedAt),
    rssBytes: first(samples, 'process_resident_memory_bytes'),
    cpuPercent: undefined,
    requestsPerSecond: undefined,
    errorRate: undefined,
    p99Ms: undefined,
  };
  if (previous === undefined) return figures;
  const seconds = (current.atMs - previous.atMs) / 1000;
  if (seconds <= 0) return figures;
  const cpuNow = first(samples, 'process_cpu_seconds_total');
  const cpuBefore = first(previous.samples, 'process_cpu_seconds_total');
  if (cpuNow !== undefined && cpuBefore !== undefined && cpuNow >= cpuBefore) {
    figures.cpuPercent = ((cpuNow - cpuBefore) / seconds) * 100;
  }
  const now = countsOf(samples);
  const before = countsOf(previous.samples);
  // A restart resets counters: a drop means a new process, and no rate for this interval.
  if (now.requests < before.requests) return figures;
  const requests = now.requests - before.requests;
  figures.requestsPerSecond = requests / seconds;
  figures.errorRate = requests > 0 ? Math.max(0, now.errors - before.errors) / requests : undefined;
  const p99 = p99FromBuckets(before.buckets, now.buckets);
  figures.p99Ms = p99 === undefined ? undefined : p99 * 1000;
  return figures;
}
