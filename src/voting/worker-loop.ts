/**
 * The worker's loop, a small state machine: join the consumer group, fetch a batch (entries a
 * dead worker left pending first, else new ones), screen out bad entries, apply the rest in one
 * transaction, ack after the commit, publish the tally. A failed step waits a backoff delay and
 * runs again with the same batch, so nothing read is dropped while Redis or Postgres is away.
 */
import { backoffDelay } from '../platform/backoff.js';
import type { Broker, StreamEntry } from '../platform/broker/broker.js';
import { UnavailableError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { Sql } from '../platform/sql/sql.js';
import { parseVoteEntry, type CastVote } from './cast-vote.js';
import {
  deadLetterStream,
  talliesChannel,
  votesStream,
  workersGroup,
  type Tally,
} from './protocol.js';
import { applyBatch } from './vote-store.js';

export interface WorkerLoopOptions {
  broker: Broker;
  sql: Sql;
  logger: Logger;
  /** This process's name in the consumer group; unique per process. */
  consumer: string;
  batchSize: number;
  blockMs: number;
  /** Entries pending this long are taken to belong to a dead worker and are reclaimed. */
  reclaimIdleMs: number;
  signal: AbortSignal;
  /** Told when the loop has joined the consumer group. */
  onJoined?: () => void;
  /** Told after each committed batch: entries applied, dead-lettered, reclaimed; seconds. */
  observe?: (event: BatchEvent) => void;
}

export type BatchEvent =
  | { kind: 'applied'; votes: number; seconds: number }
  | { kind: 'dead-lettered'; entries: number }
  | { kind: 'reclaimed'; entries: number };

type State =
  | { step: 'join' }
  | { step: 'fetch' }
  | { step: 'screen'; entries: StreamEntry[] }
  | { step: 'apply'; votes: CastVote[] }
  | { step: 'ack'; votes: CastVote[]; tally: Tally }
  | { step: 'stopped' };

export class WorkerLoop {
  readonly #options: WorkerLoopOptions;
  readonly #reclaimEveryMs: number;
  #nextReclaimAt = 0;
  /** New entries read while the previous batch's transaction ran; taken before reading again. */
  #prefetched: StreamEntry[] = [];
  /** Whether the last batch's voters were all new: then the next one tries the fast path. */
  #firstTimeVoters = true;
  #failures = 0;
  /** Why the loop is waiting, while it is; logged once per outage, not once per retry. */
  #outage: string | undefined;

  constructor(options: WorkerLoopOptions) {
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
        await broker.ensureGroup(votesStream, workersGroup);
        this.#options.onJoined?.();
        return { step: 'fetch' };
      case 'fetch': {
        if (signal.aborted) return { step: 'stopped' };
        const entries = await this.#fetchBatch();
        return entries.length === 0 ? { step: 'fetch' } : { step: 'screen', entries };
      }
      case 'screen': {
        const votes = await this.#screen(state.entries);
        return votes.length === 0 ? { step: 'fetch' } : { step: 'apply', votes };
      }
      case 'apply': {
        const started = performance.now();
        // Reading the next batch while Postgres commits this one hides a Redis round trip per
        // batch. What it reads is pending for this consumer like any read: if the process dies
        // or stops before applying it, another worker reclaims it.
        const prefetch = this.#prefetch();
        let tally: Tally;
        try {
          const applied = await applyBatch(this.#options.sql, state.votes, {
            firstTimeVoters: this.#firstTimeVoters,
          });
          ({ tally } = applied);
          this.#firstTimeVoters = applied.firstTimeVoters;
        } finally {
          // Kept even when the transaction failed, so the retry does not read past them.
          this.#prefetched = await prefetch;
        }
        const seconds = (performance.now() - started) / 1000;
        this.#options.observe?.({ kind: 'applied', votes: state.votes.length, seconds });
        return { step: 'ack', votes: state.votes, tally };
      }
      case 'ack':
        await Promise.all([
          broker.ack(
            votesStream,
            workersGroup,
            state.votes.map((vote) => vote.entryId),
          ),
          // The commit is done, so the tally may be announced while the ack travels.
          this.#publish(state.tally),
        ]);
        return { step: 'fetch' };
    }
  }

  /** New entries available right now, without blocking; none when the read fails. */
  async #prefetch(): Promise<StreamEntry[]> {
    if (this.#prefetched.length > 0) return this.#prefetched;
    const { broker, consumer, batchSize } = this.#options;
    try {
      return await broker.readGroup(votesStream, workersGroup, consumer, {
        count: batchSize,
        blockMs: 0,
      });
    } catch {
      // Entries a lost reply delivered stay pending for this consumer and are reclaimed later.
      return [];
    }
  }

  /**
   * A dead worker's entries when a look is due; else the prefetched ones; else new ones,
   * blocking. The look comes first: under a steady backlog there is always a prefetched batch,
   * and a dead worker's entries would otherwise wait for as long as the backlog lasts.
   */
  async #fetchBatch(): Promise<StreamEntry[]> {
    const { broker, consumer, batchSize, blockMs, reclaimIdleMs } = this.#options;
    if (Date.now() >= this.#nextReclaimAt) {
      const stalled = await broker.reclaim(votesStream, workersGroup, consumer, {
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
    return broker.readGroup(votesStream, workersGroup, consumer, { count: batchSize, blockMs });
  }

  /** Sends unparseable entries to the dead-letter stream (then acks them); returns the rest. */
  async #screen(entries: readonly StreamEntry[]): Promise<CastVote[]> {
    const { broker } = this.#options;
    const votes: CastVote[] = [];
    const rejected: string[] = [];
    for (const entry of entries) {
      const parsed = parseVoteEntry(entry);
      if (parsed.ok) {
        votes.push(parsed.vote);
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
      await broker.ack(votesStream, workersGroup, rejected);
      this.#options.logger.warn(
        { entries: rejected, stream: deadLetterStream },
        'unparseable votes moved to the dead-letter stream',
      );
      this.#options.observe?.({ kind: 'dead-lettered', entries: rejected.length });
    }
    return votes;
  }

  /** The tally can be recomputed from the table, so a lost notification is only logged. */
  async #publish(tally: Tally): Promise<void> {
    try {
      await this.#options.broker.publish(talliesChannel, JSON.stringify(tally));
    } catch (error) {
      this.#options.logger.debug({ err: error }, 'tally notification not sent');
    }
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
        `worker step failed: ${reason}`,
      );
    } else if (this.#outage === undefined) {
      logger.warn({ step: state.step, entries: held }, `worker waits: ${reason}`);
    }
    this.#outage = reason;
    const delayMs = backoffDelay(this.#failures++, { initialMs: 100, maxMs: 5_000 });
    await abortableDelay(delayMs, signal);
    return this.#stopping() ? this.#handBack(state) : state;
  }

  /** Stopping with a batch not yet acked: it stays pending, for another worker to reclaim. */
  #handBack(state: State): State {
    const held = heldEntries(state);
    if (held > 0) {
      this.#options.logger.info({ entries: held }, 'stopping: the batch stays pending');
    }
    return { step: 'stopped' };
  }

  #stopping(): boolean {
    return this.#options.signal.aborted;
  }

  #succeeded(): void {
    this.#failures = 0;
    if (this.#outage === undefined) return;
    this.#outage = undefined;
    this.#options.logger.info('worker resumed');
  }
}

function heldEntries(state: State): number {
  if (state.step === 'screen') return state.entries.length;
  if (state.step === 'apply' || state.step === 'ack') return state.votes.length;
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
