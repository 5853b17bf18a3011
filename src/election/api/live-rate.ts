/**
 * The ingest rate the dashboard shows: ballots stored per second, from samples of the total
 * taken about once a second over a short window. Counting from the total (not from
 * notifications) keeps it right with several API replicas and after a missed message.
 */

const minSpacingMs = 250;

export interface RateSample {
  at: number;
  total: number;
}

export class IngestRate {
  readonly #windowMs: number;
  #samples: RateSample[] = [];

  constructor(windowMs = 5_000) {
    this.#windowMs = windowMs;
  }

  /** Records the total seen at `at` (ms); samples older than the window are dropped. */
  add(total: number, at: number): void {
    const last = this.#samples.at(-1);
    // Concurrent reads finish out of order: an older, smaller total arriving late says nothing
    // new. A total far below the last (a new database or schema) starts over.
    if (last !== undefined && (total < last.total || at < last.at)) {
      if (total > last.total / 2) return;
      this.#samples = [];
    }
    // Every request reads the total too: samples closer than this replace the newest one, so
    // a busy API keeps a handful of samples, not thousands.
    const previous = this.#samples.at(-2);
    if (previous !== undefined && at - previous.at < minSpacingMs) this.#samples.pop();
    this.#samples.push({ at, total });
    const oldest = at - this.#windowMs;
    // Keep one sample at or before the window's start so the rate spans the whole window.
    while (this.#samples.length > 2 && (this.#samples[1]?.at ?? at) <= oldest) {
      this.#samples.shift();
    }
  }

  /** Ballots per second between the oldest and newest sample, 0 before there are two. */
  perSecond(): number {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (first === undefined || last === undefined || last.at <= first.at) return 0;
    const rate = ((last.total - first.total) * 1000) / (last.at - first.at);
    return Math.round(rate * 10) / 10;
  }
}
