/**
 * The counter's domain: count one hit and say so in the seed's words, naming what backs it.
 */
import type { Broker } from '../platform/broker/broker.js';
import { BrokerUnavailableError, UnavailableError } from '../platform/errors.js';

/** The seed's key: `redis-cli GET hits` shows the same number the page does. */
export const hitsKey = 'hits';

/**
 * Counts a hit and returns the new total. INCR's own answer is the number shown, so two
 * concurrent visitors never see the same number (the seed's INCR-then-GET could).
 */
export async function countHit(broker: Broker): Promise<number> {
  try {
    return await broker.incr(hitsKey);
  } catch (error) {
    if (error instanceof BrokerUnavailableError) {
      throw new UnavailableError(
        'broker',
        'The hit counter cannot reach Redis right now. It reconnects by itself; try again in a moment.',
        { cause: error },
      );
    }
    throw error;
  }
}

/** What backs the count, in the words a page uses: the seed's Redis, or the embedded broker. */
export type CounterBackend = Broker['driver'];

/** The seed's page text, naming what actually holds the count. */
export function greeting(hits: number, backend: CounterBackend = 'redis'): string {
  const from = backend === 'redis' ? 'Redis' : 'the embedded broker';
  return `Hello from ${from}! I have been seen ${hits} times.`;
}
