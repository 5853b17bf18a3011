/**
 * The loop every stream consumer runs (the voting worker, the election subscriber), a small
 * state machine: join the consumer group, fetch a batch (a dead consumer's pending entries when
 * a look is due, else new ones), screen out entries that can never be stored to the dead-letter
 * stream, store the rest in one transaction, ack after the commit. A failed step waits a backoff
 * delay and runs again with the same batch, so nothing read is dropped while a backend is away;
 * what a consumer holds when it dies stays pending until another one reclaims it. Now and then,
 * after an ack, it tidies up: deletes from the stream what every group has acked, so the stream
 * holds only work in progress instead of every entry ever appended, and forgets the consumers of
 * processes long gone, which would otherwise pile up, a few per process start.
 */
import { backoffDelay } from '../backoff.js';
import type { Broker, StreamEntry } from '../broker/broker.js';
import { NoGroupError } from '../broker/errors.js';
import { UnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';

/** An entry turned into the item to store, or why it never can be. */
export type ParsedEntry<T> = { ok: true; item: T } | { ok: false; reason: string };

export interface StreamConsumerOptions<T extends { entryId: string }, R> {
  broker: Broker;
  logger: Logger;
  stream: string;
  group: string;
  /** Where unparseable entries go, with the reason, before they are acked. */
  deadLetterStream: string;
  /** This loop's name in the consumer group; no other loop, here or elsewhere, uses it. */
  consumer: string;
  /** What the log lines call one consumer ("worker", "subscriber"). */
  role: string;
  batchSize: number;
  blockMs: number;
  /** Entries pending this long are taken to belong to a dead consumer and are reclaimed. */
  reclaimIdleMs: number;
  signal: AbortSignal;
  parse(entry: StreamEntry): ParsedEntry<T>;
  /** Writes the batch idempotently in one transaction; a throw retries the same batch. */
  store(items: readonly T[]): Promise<R>;
  /** Runs beside the ack, once the commit is done: announcements that can be recomputed. */
  afterCommit?(result: R): Promise<void>;
  /** Told when the loop has joined the consumer group. */
  onJoined?: () => void;
  observe?: (event: ConsumerEvent<R>) => void;
}

export type ConsumerEvent<R> =
  | { kind: 'stored'; items: number; result: R; seconds: number; entryIds: readonly string[] }
  | { kind: 'dead-lettered'; entries: number }
  | { kind: 'reclaimed'; entries: number };

/** How often a loop tidies the stream up; the first time is right after its first ack. */
const tidyEveryMs = 10_000;
/** Consumers holding nothing that have not read for this long belong to processes long gone. */
const forgetConsumersAfterMs = 60 * 60 * 1000;

type State<T, R> =
  | { step: 'join' }
  | { step: 'fetch' }
  | { step: 'screen'; entries: StreamEntry[] }
  | { step: 'store'; items: T[] }
  | { step: 'ack'; items: T[]; entryIds: string[]; result: R }
  | { step: 'stopped' };

export class StreamConsumer<T extends { entryId: string }, R> {
  readonly #options: StreamConsumerOptions<T, R>;
  readonly #reclaimEveryMs: number;
  #nextReclaimAt = 0;
  #nextTidyAt = 0;
  /** New entries read while the previous batch's transaction ran; taken before reading again. */
  #prefetched: StreamEntry[] = [];
  #failures = 0;
  /** Why the loop is waiting, while it is; logged once per outage, not once per retry. */
  #outage: string | undefined;

  constructor(options: StreamConsumerOptions<T, R>) {
    this.#options = options;
    this.#reclaimEveryMs = Math.max(100, Math.floor(options.reclaimIdleMs / 2));
  }

  /** Runs until the signal is aborted and the batch in flight is finished or handed back. */
  async run(): Promise<void> {
    let state: State<T, R> = { step: 'join' };
    while (state.step !== 'stopped') {
      try {
        state = await this.#advance(state);
        this.#succeeded();
      } catch (error) {
        state = await this.#failed(state, error);
      }
    }
  }

  async #advance(state: Exclude<State<T, R>, { step: 'stopped' }>): Promise<State<T, R>> {
    const { broker, stream, group, signal } = this.#options;
    switch (state.step) {
      case 'join':
        if (signal.aborted) return { step: 'stopped' };
        await broker.ensureGroup(stream, group);
        this.#options.onJoined?.();
        return { step: 'fetch' };
      case 'fetch': {
        if (signal.aborted) return { step: 'stopped' };
        const entries = await this.#fetchBatch();
        return entries.length === 0 ? { step: 'fetch' } : { step: 'screen', entries };
      }
      case 'screen': {
        const items = await this.#screen(state.entries);
        return items.length === 0 ? { step: 'fetch' } : { step: 'store', items };
      }
      case 'store': {
        const started = performance.now();
        // Reading the next batch while Postgres commits this one hides a Redis round trip per
        // batch. What it reads is pending for this consumer like any read: if the process dies
        // or stops before storing it, another consumer reclaims it.
        const prefetch = this.#prefetch();
        let result: R;
        try {
          result = await this.#options.store(state.items);
        } finally {
          // Kept even when the transaction failed, so the retry does not read past them.
          this.#prefetched = await prefetch;
        }
        const seconds = (performance.now() - started) / 1000;
        const entryIds = state.items.map((item) => item.entryId);
        this.#options.observe?.({
          kind: 'stored',
          items: state.items.length,
          result,
          seconds,
          entryIds,
        });
        return { step: 'ack', items: state.items, entryIds, result };
      }
      case 'ack': {
        await Promise.all([
          broker.ack(stream, group, state.entryIds),
          this.#afterCommit(state.result),
        ]);
        await this.#tidyWhenDue();
        return { step: 'fetch' };
      }
    }
  }

  /** New entries available right now, without blocking; none when the read fails. */
  async #prefetch(): Promise<StreamEntry[]> {
    if (this.#prefetched.length > 0) return this.#prefetched;
    const { broker, stream, group, consumer, batchSize } = this.#options;
    try {
      return await broker.readGroup(stream, group, consumer, { count: batchSize, blockMs: 0 });
    } catch {
      // Entries a lost reply delivered stay pending for this consumer and are reclaimed later.
      return [];
    }
  }

  /**
   * A dead consumer's entries when a look is due; else the prefetched ones; else new ones,
   * blocking. The look comes first: under a steady backlog there is always a prefetched batch,
   * and a dead consumer's entries would otherwise wait for as long as the backlog lasts.
   */
  async #fetchBatch(): Promise<StreamEntry[]> {
    const { broker, stream, group, consumer, batchSize, blockMs, reclaimIdleMs } = this.#options;
    if (Date.now() >= this.#nextReclaimAt) {
      const stalled = await broker.reclaim(stream, group, consumer, {
        minIdleMs: reclaimIdleMs,
        count: batchSize,
      });
      // A full page may mean more are waiting: look again at once.
      if (stalled.length < batchSize) this.#nextReclaimAt = Date.now() + this.#reclaimEveryMs;
      if (stalled.length > 0) {
        this.#options.observe?.({ kind: 'reclaimed', entries: stalled.length });
        return stalled;
      }
    }
    if (this.#prefetched.length > 0) {
      const entries = this.#prefetched;
      this.#prefetched = [];
      return entries;
    }
    return broker.readGroup(stream, group, consumer, { count: batchSize, blockMs });
  }

  /** Sends unparseable entries to the dead-letter stream (then acks them); returns the rest. */
  async #screen(entries: readonly StreamEntry[]): Promise<T[]> {
    const { broker, stream, group, deadLetterStream } = this.#options;
    const items: T[] = [];
    const rejected: string[] = [];
    for (const entry of entries) {
      const parsed = this.#options.parse(entry);
      if (parsed.ok) {
        items.push(parsed.item);
        continue;
      }
      await broker.append(deadLetterStream, {
        reason: parsed.reason,
        entry_id: entry.id,
        fields: JSON.stringify(entry.fields),
      });
      rejected.push(entry.id);
    }
    if (rejected.length > 0) {
      await broker.ack(stream, group, rejected);
      this.#options.logger.warn(
        { entries: rejected, stream: deadLetterStream },
        'unparseable entries moved to the dead-letter stream',
      );
      this.#options.observe?.({ kind: 'dead-lettered', entries: rejected.length });
    }
    return items;
  }

  /** At most every `tidyEveryMs`: trims acked entries and forgets long-gone consumers. */
  async #tidyWhenDue(): Promise<void> {
    const { broker, stream, group, logger } = this.#options;
    if (Date.now() < this.#nextTidyAt) return;
    this.#nextTidyAt = Date.now() + tidyEveryMs;
    try {
      const trimmed = await broker.trimAcked(stream);
      const forgotten = await broker.forgetIdleConsumers(stream, group, forgetConsumersAfterMs);
      logger.debug({ stream, trimmed, forgotten }, 'stream tidied');
    } catch (error) {
      // Nothing is lost by waiting: the next look trims and forgets what this one did not.
      logger.warn({ err: error, stream }, 'could not tidy the stream; trying again later');
    }
  }

  /** What follows a commit can be recomputed, so its failure is only logged. */
  async #afterCommit(result: R): Promise<void> {
    try {
      await this.#options.afterCommit?.(result);
    } catch (error) {
      this.#options.logger.debug({ err: error }, 'after-commit announcement not sent');
    }
  }

  async #failed(state: State<T, R>, error: unknown): Promise<State<T, R>> {
    const { logger, signal, role } = this.#options;
    if (signal.aborted) return this.#handBack(state);
    if (error instanceof NoGroupError) {
      // The stream or group vanished (a Redis restarted empty): make it again, then read.
      logger.warn({ err: error }, 'the consumer group is gone; joining again');
      return { step: 'join' };
    }
    const reason = error instanceof Error ? error.message : String(error);
    const held = heldEntries(state);
    if (!(error instanceof UnavailableError)) {
      logger.error(
        { err: error, step: state.step, entries: held },
        `${role} step failed: ${reason}`,
      );
    } else if (this.#outage === undefined) {
      logger.warn({ step: state.step, entries: held }, `${role} waits: ${reason}`);
    }
    this.#outage = reason;
    const delayMs = backoffDelay(this.#failures++, { initialMs: 100, maxMs: 5_000 });
    await abortableDelay(delayMs, signal);
    return this.#stopping() ? this.#handBack(state) : state;
  }

  /** Read through a method: the compiler cannot see the signal change across the await. */
  #stopping(): boolean {
    return this.#options.signal.aborted;
  }

  /** Stopping with a batch not yet acked: it stays pending, for another consumer to reclaim. */
  #handBack(state: State<T, R>): State<T, R> {
    const held = heldEntries(state);
    if (held > 0) {
      this.#options.logger.info({ entries: held }, 'stopping: the batch stays pending');
    }
    return { step: 'stopped' };
  }

  #succeeded(): void {
    this.#failures = 0;
    if (this.#outage === undefined) return;
    this.#outage = undefined;
    this.#options.logger.info(`${this.#options.role} resumed`);
  }
}

function heldEntries<T, R>(state: State<T, R>): number {
  if (state.step === 'screen') return state.entries.length;
  if (state.step === 'store' || state.step === 'ack') return state.items.length;
  return 0;
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
