import { describe, expect, it } from 'vitest';

import { IngestRate } from './live-rate.js';

describe('IngestRate', () => {
  it('is 0 before two samples', () => {
    const rate = new IngestRate();
    expect(rate.perSecond()).toBe(0);
    rate.add(100, 1_000);
    expect(rate.perSecond()).toBe(0);
  });

  it('divides the growth of the total by the time between samples', () => {
    const rate = new IngestRate();
    rate.add(100, 1_000);
    rate.add(150, 2_000);
    rate.add(400, 3_000);
    expect(rate.perSecond()).toBe(150);
  });

  it('forgets samples older than its window, so a stopped ingest falls to 0', () => {
    const rate = new IngestRate(2_000);
    rate.add(0, 0);
    rate.add(1_000, 1_000);
    for (let at = 2_000; at <= 6_000; at += 1_000) rate.add(1_000, at);
    expect(rate.perSecond()).toBe(0);
  });

  it('starts over when the total goes down', () => {
    const rate = new IngestRate();
    rate.add(500, 1_000);
    rate.add(10, 2_000);
    rate.add(30, 3_000);
    expect(rate.perSecond()).toBe(20);
  });

  it('keeps the rate right when samples come faster than it keeps them', () => {
    const rate = new IngestRate();
    for (let at = 0; at <= 2_000; at += 10) rate.add(at, at);
    expect(rate.perSecond()).toBe(1_000);
  });
});
