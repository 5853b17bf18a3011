import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { LoadStats } from './histogram.js';
import { createLiveView, formatPlainTick, parsePlainTick } from './live-view.js';
import type { LiveTick } from './runner.js';

function tick(): LiveTick {
  const stats = new LoadStats(['vote', 'results']);
  for (let index = 1; index <= 100; index += 1) stats.record('vote', true, '', index);
  stats.record('vote', false, 'HTTP 503', 5);
  return {
    elapsedMs: 5_000,
    second: stats.closeSecond(),
    issued: 101,
    failed: 1,
    acked: 97,
    inFlight: 3,
  };
}

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { stream, text: () => text };
}

describe('the live view', () => {
  it('on a terminal redraws a per-route table with percentiles in place', () => {
    const { stream, text } = capture();
    const view = createLiveView(stream, 'agora load voting', { tty: true });
    view.update(tick());
    view.update(tick());
    const output = text();
    expect(output).toContain('agora load voting  5s  sent 101  acked 97  failed 1  in flight 3');
    expect(output).toMatch(/vote\s+101\s+1\s+50\.0\s+95\.\d\s+99\.\d/);
    // Second drawing moves the cursor back over the first.
    expect(output).toContain('\x1b[');
  });

  it('without a terminal prints a plain line every few seconds', () => {
    const { stream, text } = capture();
    const view = createLiveView(stream, 'agora load voting', { tty: false, plainEverySeconds: 5 });
    for (let index = 0; index < 10; index += 1) view.update(tick());
    expect(text().split('\n').filter(Boolean)).toHaveLength(0);
    const ticks = Array.from({ length: 5 }, tick).map((one, index) => ({
      ...one,
      second: { ...one.second, second: index + 1 },
    }));
    for (const one of ticks) view.update(one);
    expect(text().split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(
        /^agora load voting 5s: sent 101, acked 97, failed 1, in flight 3; last second 101 req\/s, 1 failed, p50 50\.\d ms/,
      ),
    ]);
  });

  it('without a terminal adds one line per route when several routes were used', () => {
    const stats = new LoadStats(['gateway-grpc', 'gateway-redis', 'grpc-direct']);
    for (let index = 1; index <= 10; index += 1) stats.record('gateway-grpc', true, '', index);
    stats.record('gateway-redis', false, 'HTTP 503', 7);
    const second = { ...stats.closeSecond(), second: 5 };
    const { stream, text } = capture();
    const view = createLiveView(stream, 'agora load election', { tty: false });
    view.update({ elapsedMs: 5_000, second, issued: 11, failed: 1, acked: 10, inFlight: 0 });
    const lines = text().split('\n').filter(Boolean);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^ {2}gateway-grpc: 10 req\/s, 0 failed, p50 5\.\d ms, p95 10\.\d ms/);
    expect(lines[2]).toMatch(/^ {2}gateway-redis: 1 req\/s, 1 failed, p50 7\.\d ms/);
  });

  it('reads its own plain headline back as figures, and nothing else', () => {
    const line = formatPlainTick('agora load voting', tick()).split('\n')[0] ?? '';
    expect(parsePlainTick(line)).toEqual({
      elapsedSeconds: 5,
      sent: 101,
      acked: 97,
      failed: 1,
      inFlight: 3,
      requestsPerSecond: 101,
      p99Ms: expect.any(Number) as number,
    });
    expect(parsePlainTick('agora load voting: verifying 97 acknowledged writes')).toBeUndefined();
  });
});
