import { describe, expect, it } from 'vitest';

import { MemoryBroker } from '../platform/broker/memory.js';
import { UnavailableError } from '../platform/errors.js';
import { HitCounter, hitsKey } from './hits.js';

describe('HitCounter', () => {
  it('gives each hit of a turn its own number, and the key the exact count', async () => {
    const broker = new MemoryBroker();
    const counter = new HitCounter(broker);
    const first = await Promise.all(Array.from({ length: 50 }, () => counter.count()));
    const second = await Promise.all(Array.from({ length: 30 }, () => counter.count()));
    expect([...first, ...second].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 80 }, (_, i) => i + 1),
    );
    // The second turn's numbers follow the first's: each turn counted its hits at once.
    expect(Math.min(...second)).toBe(51);
    expect(await broker.counter(hitsKey)).toBe(80);
    await broker.close();
  });

  it("gives every hit of a turn the broker's outage", async () => {
    const broker = new MemoryBroker();
    const counter = new HitCounter(broker);
    await counter.count();
    await broker.close();
    const outcomes = await Promise.allSettled([counter.count(), counter.count()]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(UnavailableError);
    }
  });
});
