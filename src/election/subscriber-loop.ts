/**
 * The subscriber's loop, the voting worker's state machine (src/voting/worker-loop.ts) for
 * ballots: join the consumer group, fetch a batch (a dead subscriber's pending entries first,
 * else new ones), screen out bad entries to the dead-letter stream, store the rest in one
 * transaction, ack after the commit. A failed step waits a backoff delay and runs again with
 * the same batch, so nothing read is dropped while Redis or Postgres is away.
 */
import { backoffDelay } from '../platform/backoff.js';
import type { Broker, StreamEntry } from '../platform/broker/broker.js';
import { UnavailableError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { Sql } from '../platform/sql/sql.js';
import { storeBallots } from './ballot-store.js';
import { ballotsStream, deadLetterStream, subscribersGroup } from './protocol.js';
import { parseBallotEntry, type QueuedBallot } from './subscriber-entry.js';

export interface SubscriberLoopOptions {
  broker: Broker;
  sql: Sql;
  logger: Logger;
  /** This process's name in the consumer group; unique per process. */
  consumer: string;
  batchSize: number;
  blockMs: number;
  /** Entries pending this long are taken to belong to a dead subscriber and are reclaimed. */
  reclaimIdleMs: number;
  signal: AbortSignal;
  /** Told when the loop has joined the consumer group. */
  onJoined?: () => void;
  /** Told after each step worth counting. */
  observe?: (event: SubscriberEvent) => void;
}

export type SubscriberEvent =
  | { kind: 'stored'; stored: number; duplicates: number; seconds: number }
  | { kind: 'dead-lettered'; entries: number }
  | { kind: 'reclaimed'; entries: number };

type State =
  | { step: 'join' }
  | { step: 'fetch' }
  | { step: 'screen'; entries: StreamEntry[] }
  | { step: 'store'; batch: QueuedBallot[] }
  | { step: 'ack'; batch: QueuedBallot[] }
  | { step: 'stopped' };

export class SubscriberLoop {
  readonly #options: SubscriberLoopOptions;
  readonly #reclaimEveryMs: number;
  #nextReclaimAt = 0;
  /** New entries read while the previous batch's transaction ran; taken before reading again. */
  #prefetched: StreamEntry[] = [];
  #failures = 0;
  /** Why the loop is waiting, while it is; logged once per outage, not once per retry. */
  #outage: string | undefined;

  constructor(options: SubscriberLoopOptions) {
    this.#options = options;
    this.#reclaimEveryMs = Math.max(100, Math.floor(options.reclaimIdleMs / 2));
  }

  /** Runs until the signal is aborted and the batch in flight is finished or handed back. */
  async run(): Promise<void> {
    let state: State = { step: 'join' };
    while (state.step !== 'stopped') {
      try {
        state = await this.#advance(state);
        this.#succeeded();
      } catch (error) {
        state = await this.#failed(state, error);
      }
    }
  }

  async #advance(state: Exclude<State, { step: 'stopped' }>): Promise<State> {
    const { broker, signal } = this.#options;
    switch (state.step) {
      case 'join':
        if (signal.aborted) return { step: 'stopped' };
        await broker.ensureGroup(ballotsStream, subscribersGroup);
        this.#options.onJoined?.();
        return { step: 'fetch' };
      case 'fetch': {
        if (signal.aborted) return { step: 'stopped' };
        const entries = await this.#fetchBatch();
        return entries.length === 0 ? { step: 'fetch' } : { step: 'screen', entries };
      }
      case 'screen': {
        const batch = await this.#screen(state.entries);
        return batch.length === 0 ? { step: 'fetch' } : { step: 'store', batch };
      }
      case 'store': {
        const started = performance.now();
        // Reading the next batch while Postgres commits this one hides a Redis round trip per
        // batch; what it reads is pending for this consumer, reclaimed if the process dies.
        const prefetch = this.#prefetch();
        let result;
        try {
          result = await storeBallots(
            this.#options.sql,
            broker,
            state.batch.map((queued) => queued.ballot),
            'redis',
            { logger: this.#options.logger },
          );
        } finally {
          // Kept even when the transaction failed, so the retry does not read past them.
          this.#prefetched = await prefetch;
        }
        this.#options.observe?.({
          kind: 'stored',
          stored: result.stored.length,
          duplicates: result.duplicates.length,
          seconds: (performance.now() - started) / 1000,
        });
        return { step: 'ack', batch: state.batch };
      }
      case 'ack':
        await broker.ack(
          ballotsStream,
          subscribersGroup,
          state.batch.map((queued) => queued.entryId),
        );
        return { step: 'fetch' };
    }
  }

  /** New entries available right now, without blocking; none when the read fails. */
  async #prefetch(): Promise<StreamEntry[]> {
    if (this.#prefetched.length > 0) return this.#prefetched;
    const { broker, consumer, batchSize } = this.#options;
    try {
      return await broker.readGroup(ballotsStream, subscribersGroup, consumer, {
        count: batchSize,
        blockMs: 0,
      });
    } catch {
      // Entries a lost reply delivered stay pending for this consumer and are reclaimed later.
      return [];
    }
  }

  /**
   * A dead subscriber's entries when a look is due; else the prefetched ones; else new ones,
   * blocking. The look comes first: under a steady backlog there is always a prefetched batch,
   * and a dead subscriber's entries would otherwise wait for as long as the backlog lasts.
   */
  async #fetchBatch(): Promise<StreamEntry[]> {
    const { broker, consumer, batchSize, blockMs, reclaimIdleMs } = this.#options;
    if (Date.now() >= this.#nextReclaimAt) {
      const stalled = await broker.reclaim(ballotsStream, subscribersGroup, consumer, {
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
    return broker.readGroup(ballotsStream, subscribersGroup, consumer, {
      count: batchSize,
      blockMs,
    });
  }

  /** Sends unparseable entries to the dead-letter stream (then acks them); returns the rest. */
  async #screen(entries: readonly StreamEntry[]): Promise<QueuedBallot[]> {
    const { broker } = this.#options;
    const batch: QueuedBallot[] = [];
    const rejected: string[] = [];
    for (const entry of entries) {
      const parsed = parseBallotEntry(entry);
      if (parsed.ok) {
        batch.push(parsed.queued);
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
      await broker.ack(ballotsStream, subscribersGroup, rejected);
      this.#options.logger.warn(
        { entries: rejected, stream: deadLetterStream },
        'unparseable ballots moved to the dead-letter stream',
      );
      this.#options.observe?.({ kind: 'dead-lettered', entries: rejected.length });
    }
    return batch;
  }

  async #failed(state: State, error: unknown): Promise<State> {
    const { logger, signal } = this.#options;
    if (signal.aborted) return this.#handBack(state);
    if (isNoGroup(error)) {
      // The stream or group vanished (a Redis restarted empty): make it again, then read.
      logger.warn({ err: error }, 'the consumer group is gone; joining again');
      return { step: 'join' };
    }
    const reason = error instanceof Error ? error.message : String(error);
    const held = heldEntries(state);
    if (!(error instanceof UnavailableError)) {
      logger.error(
        { err: error, step: state.step, entries: held },
        `subscriber step failed: ${reason}`,
      );
    } else if (this.#outage === undefined) {
      logger.warn({ step: state.step, entries: held }, `subscriber waits: ${reason}`);
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

  /** Stopping with a batch not yet acked: it stays pending, for another subscriber to reclaim. */
  #handBack(state: State): State {
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
    this.#options.logger.info('subscriber resumed');
  }
}

function heldEntries(state: State): number {
  if (state.step === 'screen') return state.entries.length;
  if (state.step === 'store' || state.step === 'ack') return state.batch.length;
  return 0;
}

function isNoGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
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
