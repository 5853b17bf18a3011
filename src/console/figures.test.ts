import { describe, expect, it } from 'vitest';

import { figuresOf, p99FromBuckets } from './figures.js';
import { parsePrometheusText } from './prometheus-text.js';

const scrape = (atMs: number, count: number, errors: number, fast: number, cpu: number) => ({
  atMs,
  samples: parsePrometheusText(`
agora_process_info{pid="42",replica="1"} 1
process_start_time_seconds 100
process_cpu_seconds_total ${cpu}
process_resident_memory_bytes 1000
http_request_duration_seconds_count{route="/",status_code="200"} ${count - errors}
http_request_duration_seconds_count{route="/",status_code="503"} ${errors}
http_request_duration_seconds_count{route="/metrics",status_code="200"} 999
http_request_duration_seconds_bucket{route="/",status_code="200",le="0.01"} ${fast}
http_request_duration_seconds_bucket{route="/",status_code="200",le="0.1"} ${count}
http_request_duration_seconds_bucket{route="/",status_code="200",le="+Inf"} ${count}
`),
});

describe('figuresOf', () => {
  it('gives rates over the interval and leaves monitoring routes out', () => {
    const figures = figuresOf(scrape(112_000, 300, 30, 250, 1.5), scrape(110_000, 100, 10, 100, 1));
    expect(figures.pid).toBe(42);
    expect(figures.uptimeSeconds).toBe(12);
    expect(figures.requestsPerSecond).toBe(100);
    expect(figures.errorRate).toBe(0.1);
    expect(figures.cpuPercent).toBe(25);
    expect(figures.p99Ms).toBe(100);
  });

  it('has no rates from one scrape, nor across a restart', () => {
    expect(figuresOf(scrape(1, 10, 0, 10, 1), undefined).requestsPerSecond).toBeUndefined();
    const restarted = figuresOf(scrape(2_000, 5, 0, 5, 1), scrape(1_000, 10, 0, 10, 1));
    expect(restarted.requestsPerSecond).toBeUndefined();
  });
});

describe('p99FromBuckets', () => {
  it('names the bucket bound where 99% of the new observations fall', () => {
    const before = new Map([
      [0.01, 0],
      [0.1, 0],
      [Infinity, 0],
    ]);
    expect(
      p99FromBuckets(
        before,
        new Map([
          [0.01, 98],
          [0.1, 100],
          [Infinity, 100],
        ]),
      ),
    ).toBe(0.1);
    expect(
      p99FromBuckets(
        before,
        new Map([
          [0.01, 100],
          [0.1, 100],
          [Infinity, 100],
        ]),
      ),
    ).toBe(0.01);
    expect(p99FromBuckets(before, before)).toBeUndefined();
  });
});
