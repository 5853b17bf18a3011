/**
 * Group commit: the single-row writes that arrive in one event-loop turn (and while the batch
 * before them commits) go to the database as one batch in one transaction (or one statement),
 * and each caller is answered only after that commit. A batch that fails is written again row by row, so one bad
 * row fails alone and its batch-mates still commit.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { backoffDelay } from '../backoff.js';
import { UnavailableError } from '../errors.js';
import { isSerializationFailure, retryTransaction } from './errors.js';
import type { QueryOptions, Sql, SqlQueryable } from './sql.js';

/** What one write of a batch came to: a value, or an error for that caller alone. */
export type Outcome<Output> = { value: Output } | { error: unknown };

export interface GroupCommitOptions<Input, Output> {
  /** The handle to write through, asked once per batch (a gated handle may refuse with 503). */
  sql: () => Sql;
  /**
   * Writes `inputs` in `tx`, in as few statements as it can, and returns one outcome per
   * input, in order. It may run again in a fresh transaction (after a deadlock), and it must
   * give each input the meaning a write of its own would have had at that point: a later input
   * of the batch sees what the earlier ones wrote, as it would if they had committed first.
   */
  writeBatch: (tx: SqlQueryable, inputs: readonly Input[]) => Promise<Outcome<Output>[]>;
  /**
   * Runs after the commit, before any caller is answered, with the outcomes of the batch. Its
   * rejection reaches the batch's callers, so a best-effort step catches its own errors.
   */
  afterCommit?: (outcomes: readonly Outcome<Output>[]) => Promise<void>;
  /** Most writes in one batch; a full batch is sent without waiting for the turn to end. */
  maxBatch?: number;
  /** Most batches committing at once; the writes that arrive meanwhile form the next batch. */
  maxInFlight?: number;
  /**
   * `transaction` (the default): `writeBatch` runs between BEGIN and COMMIT. `statement`: its
   * first statement is the batch's only write and commits by itself, and what follows only
   * reads, so a batch costs one round trip instead of three and the rows it locks are free as
   * soon as Postgres has flushed the commit, not once this process has sent COMMIT. A write of
   * the batch that fails after that first statement must be its outcome, not a throw: once a
   * statement committed, a rejection reaches every caller of the batch (none is written again).
   */
  commit?: 'transaction' | 'statement';
}

/** A batch in `statement` mode failed after a statement of it had committed. */
class AfterCommitFailure extends Error {
  constructor(readonly error: unknown) {
    super('a group commit failed after a statement of it committed', { cause: error });
  }
}

interface Pending<Input, Output> {
  input: Input;
  resolve: (value: Output) => void;
  reject: (error: unknown) => void;
}

const defaults = { maxBatch: 500, maxInFlight: 4, commit: 'transaction' as const };

export class GroupCommit<Input, Output> {
  private readonly options: Required<Omit<GroupCommitOptions<Input, Output>, 'afterCommit'>> &
    Pick<GroupCommitOptions<Input, Output>, 'afterCommit'>;
  private queue: Pending<Input, Output>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(options: GroupCommitOptions<Input, Output>) {
    this.options = { ...defaults, ...options };
  }

  /** Resolves with the write's value once its batch committed; rejects with its own error. */
  write(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.queue.length >= this.options.maxBatch) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after the I/O callbacks of this turn: every request that arrived in it
    // has been parsed and has called write() by then.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.commit(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.flush();
      });
    }
  }

  private async commit(batch: readonly Pending<Input, Output>[]): Promise<void> {
    let outcomes: Outcome<Output>[];
    try {
      const inputs = batch.map((pending) => pending.input);
      outcomes =
        this.options.commit === 'statement'
          ? await this.writeStatement(inputs)
          : await retryTransaction(this.options.sql(), (tx) => this.options.writeBatch(tx, inputs));
    } catch (thrown) {
      // Some of it committed: writing it again could store a row twice, so every caller is told.
      if (thrown instanceof AfterCommitFailure) {
        for (const pending of batch) pending.reject(thrown.error);
        return;
      }
      const error = thrown;
      // The database is away, or the batch was one write: every caller gets the error. Any other
      // failure is one bad row (or more): written alone, each fails or commits by itself.
      if (batch.length === 1 || error instanceof UnavailableError) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      await Promise.all(batch.map((pending) => this.commit([pending])));
      return;
    }
    try {
      if (outcomes.length !== batch.length) {
        throw new Error(`a batch of ${batch.length} writes gave ${outcomes.length} outcomes`);
      }
      await this.options.afterCommit?.(outcomes);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const [i, pending] of batch.entries()) {
      const outcome = outcomes[i] ?? { error: new Error('the batch gave this write no outcome') };
      if ('value' in outcome) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    }
  }

  /**
   * `writeBatch` on the handle itself, each statement committing alone. While none has
   * succeeded nothing is written, so a deadlock runs it again and a failure may be retried row
   * by row; after one has, a failure is an AfterCommitFailure.
   */
  private async writeStatement(inputs: readonly Input[]): Promise<Outcome<Output>[]> {
    for (let attempt = 1; ; attempt++) {
      const sql = this.options.sql();
      // An object, not a let: TypeScript does not see the closures below assign it.
      const state = { committed: false };
      const handle: SqlQueryable = {
        query: async <Row>(text: string, params?: readonly unknown[], options?: QueryOptions) => {
          const result = await sql.query<Row>(text, params, options);
          state.committed = true;
          return result;
        },
        copyFrom: async (table, columns, rows) => {
          const count = await sql.copyFrom(table, columns, rows);
          state.committed = true;
          return count;
        },
      };
      try {
        return await this.options.writeBatch(handle, inputs);
      } catch (error) {
        if (state.committed) throw new AfterCommitFailure(error);
        if (!isSerializationFailure(error) || attempt >= maxStatementAttempts) throw error;
        await sleep(backoffDelay(attempt - 1, { initialMs: 10, maxMs: 500 }));
      }
    }
  }
}

/** Runs of a batch in `statement` mode that hit a deadlock before anything committed. */
const maxStatementAttempts = 8;
