/**
 * The counter's domain: count one hit and say so in the seed's words, naming what backs it.
 */
import type { Broker } from '../platform/broker/broker.js';
import { BrokerUnavailableError, UnavailableError } from '../platform/errors.js';

/** The seed's key: `redis-cli GET hits` shows the same number the page does. */
export const hitsKey = 'hits';

/**
 * Counts hits. The hits of one event-loop turn go to the broker as one `INCRBY hits n`, and its
 * answer, the new total T, gives each of them its own number, T - n + 1 to T: every visitor
 * still sees a number no other one does, and the key still holds the exact count, while a busy
 * counter pays one broker round trip (a command, a frame, a reply) per turn instead of one per
 * request, which was the largest part of a hit's CPU after the socket write (bench/counter).
 * One INCRBY either counts all of its hits or none: if it fails, each of them gets the error.
 */
export class HitCounter {
  #waiting: { resolve: (hits: number) => void; reject: (error: unknown) => void }[] = [];

  constructor(private readonly broker: Broker) {}

  /** Counts one hit; resolves with its number once the broker has counted it. */
  count(): Promise<number> {
    return new Promise((resolve, reject) => {
      // After the I/O callbacks of this turn: every request read in it has asked by then.
      if (this.#waiting.length === 0) {
        setImmediate(() => {
          this.#send();
        });
      }
      this.#waiting.push({ resolve, reject });
    });
  }

  #send(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    this.broker.incr(hitsKey, waiting.length).then(
      (total) => {
        const first = total - waiting.length + 1;
        waiting.forEach((waiter, i) => {
          waiter.resolve(first + i);
        });
      },
      (error: unknown) => {
        const refusal = unavailable(error);
        for (const waiter of waiting) waiter.reject(refusal);
      },
    );
  }
}

/** The broker's outage in the counter's words; any other error as it came. */
function unavailable(error: unknown): unknown {
  if (!(error instanceof BrokerUnavailableError)) return error;
  return new UnavailableError(
    'broker',
    'The hit counter cannot reach Redis right now. It reconnects by itself; try again in a moment.',
    { cause: error },
  );
}

/** What backs the count, in the words a page uses: the seed's Redis, or the embedded broker. */
export type CounterBackend = Broker['driver'];

/** The seed's page text, naming what actually holds the count. */
export function greeting(hits: number, backend: CounterBackend = 'redis'): string {
  const from = backend === 'redis' ? 'Redis' : 'the embedded broker';
  return `Hello from ${from}! I have been seen ${hits} times.`;
}
