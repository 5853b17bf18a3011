/**
 * The guard in front of login and register, the agent's two operations that cost a password
 * hash (scrypt, on libuv's small thread pool): after a few failures a name, or an address, must
 * wait before its next attempt, twice as long after each further failure; and only so many
 * hashes run at once, the rest answered `busy` at once instead of queueing without bound.
 * State is per agent process, in memory: a restart forgets it, several agents each keep theirs.
 */
import { NewsError } from '../protocol.js';

export interface LoginGuardOptions {
  /** Failures a name, and an address, may have before it must wait. */
  freeFailures: { name: number; address: number };
  /** The first wait; it doubles with each further failure, up to `backoffMaxMs`. */
  backoffMs: number;
  backoffMaxMs: number;
  /** Attempts (each at least one hash) in flight at once. */
  maxInFlight: number;
  now?: () => number;
}

/** Who an attempt is for: the name tried (logins), and the address it came from. */
export interface AttemptKeys {
  name?: string;
  address: string;
}

interface Failures {
  count: number;
  lastAt: number;
  /** No attempt for this key before then. */
  until: number;
}

/** At most this many keys are remembered; the oldest go first (an attacker cycling names). */
const maxKeys = 100_000;

export class LoginGuard {
  readonly #options: Required<LoginGuardOptions>;
  readonly #failures = new Map<string, Failures>();
  #inFlight = 0;

  constructor(options: LoginGuardOptions) {
    this.#options = { now: Date.now, ...options };
  }

  /**
   * Runs one attempt: refused `rate_limited` while its name or address must wait, `busy` when
   * too many hashes run. A `bad_credentials` or `name_taken` failure counts against both; a
   * success clears the name's failures (not the address's: an attacker could interleave its own
   * good logins).
   */
  async attempt<T>(who: AttemptKeys, work: () => Promise<T>): Promise<T> {
    const now = this.#options.now();
    const keys = [
      ...(who.name === undefined
        ? []
        : [{ key: `name:${who.name.normalize('NFKC').toLowerCase()}`, what: 'name' }]),
      { key: `address:${who.address}`, what: 'address' },
    ];
    for (const { key, what } of keys) {
      const entry = this.#current(key, now);
      if (entry !== undefined && entry.until > now) {
        const seconds = Math.ceil((entry.until - now) / 1000);
        throw new NewsError(
          'rate_limited',
          `too many failed attempts for this ${what}; try again in ${seconds} s`,
        );
      }
    }
    if (this.#inFlight >= this.#options.maxInFlight) {
      throw new NewsError('busy', 'too many logins at once; try again shortly');
    }
    this.#inFlight += 1;
    try {
      const result = await work();
      if (keys.length > 1) this.#failures.delete(keys[0]?.key ?? '');
      return result;
    } catch (error) {
      if (
        error instanceof NewsError &&
        (error.code === 'bad_credentials' || error.code === 'name_taken')
      ) {
        for (const { key, what } of keys) {
          this.#fail(
            key,
            what === 'name' ? this.#options.freeFailures.name : this.#options.freeFailures.address,
          );
        }
      }
      throw error;
    } finally {
      this.#inFlight -= 1;
    }
  }

  /** The key's failures, forgotten once it has been quiet for a while. */
  #current(key: string, now: number): Failures | undefined {
    const entry = this.#failures.get(key);
    if (entry !== undefined && now - entry.lastAt > this.#forgetAfterMs()) {
      this.#failures.delete(key);
      return undefined;
    }
    return entry;
  }

  #forgetAfterMs(): number {
    return Math.max(10 * 60_000, this.#options.backoffMaxMs * 2);
  }

  #fail(key: string, freeFailures: number): void {
    const now = this.#options.now();
    const entry = this.#current(key, now) ?? { count: 0, lastAt: now, until: 0 };
    entry.count += 1;
    entry.lastAt = now;
    const over = entry.count - freeFailures;
    if (over > 0) {
      const wait = this.#options.backoffMs * 2 ** Math.min(over - 1, 30);
      entry.until = now + Math.min(wait, this.#options.backoffMaxMs);
    }
    // Re-inserted last, so the map's first key is the longest quiet one.
    this.#failures.delete(key);
    if (this.#failures.size >= maxKeys) {
      const oldest = this.#failures.keys().next();
      if (oldest.done !== true) this.#failures.delete(oldest.value);
    }
    this.#failures.set(key, entry);
  }
}
