/**
 * The counter's domain: count one hit and say so in the seed's words.
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

/** The seed's page text. */
export function greeting(hits: number): string {
  return `Hello from Redis! I have been seen ${hits} times.`;
}
