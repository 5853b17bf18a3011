import { describe, expect, it } from 'vitest';

import { parsePrometheusText, sum } from './prometheus-text.js';

const exposition = `# HELP http_request_duration_seconds Time
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.005",method="GET",route="/",status_code="200",service="counter"} 3
http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/",status_code="200",service="counter"} 4
http_request_duration_seconds_count{method="GET",route="/",status_code="200",service="counter"} 4
process_resident_memory_bytes{service="counter"} 52000000
odd{a="x\\"y\\\\z",b="line\\nnext"} 1.5 1700000000000
not a sample line
`;

describe('parsePrometheusText', () => {
  it('reads names, labels and values, +Inf included, and skips what is not a sample', () => {
    const samples = parsePrometheusText(exposition);
    expect(samples).toHaveLength(5);
    expect(samples[1]?.labels.le).toBe('+Inf');
    expect(sum(samples, 'http_request_duration_seconds_count')).toBe(4);
    expect(samples[4]).toEqual({
      name: 'odd',
      labels: { a: 'x"y\\z', b: 'line\nnext' },
      value: 1.5,
    });
  });

  it('skips broken labels instead of throwing', () => {
    for (const line of ['a{b="c} 1', 'a{="c"} 1', 'a{b=c} 1', 'a{b="c"} x', '{} 1', 'a{b="\\']) {
      expect(parsePrometheusText(line)).toEqual([]);
    }
  });
});
