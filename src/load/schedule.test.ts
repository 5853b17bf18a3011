import { describe, expect, it } from 'vitest';

import { arrivalOffsetMs, arrivalsWithin } from './schedule.js';

describe('the arrival timeline', () => {
  it('spaces arrivals evenly at a constant rate', () => {
    const rate = { perSecond: 4, rampSeconds: 0 };
    expect([0, 1, 2, 3, 4].map((index) => arrivalOffsetMs(index, rate))).toEqual([
      0, 250, 500, 750, 1000,
    ]);
    expect(arrivalsWithin(1_000, rate)).toBe(4);
  });

  it('during a ramp sends the area under the rate line, then the full rate', () => {
    const rate = { perSecond: 10, rampSeconds: 2 };
    // 0 -> 10/s over 2 s is 10 arrivals; afterwards one every 100 ms.
    expect(arrivalsWithin(2_000, rate)).toBe(10);
    expect(arrivalOffsetMs(10, rate)).toBe(2_000);
    expect(arrivalOffsetMs(11, rate)).toBeCloseTo(2_100);
    expect(arrivalsWithin(3_000, rate)).toBe(20);
  });

  it('is never earlier for a later arrival', () => {
    const rate = { perSecond: 7, rampSeconds: 3 };
    for (let index = 1; index < 50; index += 1) {
      expect(arrivalOffsetMs(index, rate)).toBeGreaterThan(arrivalOffsetMs(index - 1, rate));
    }
  });
});
