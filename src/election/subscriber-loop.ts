/**
 * The election subscriber's consumer: the shared stream-consumer loop (src/platform/broker/
 * stream-consumer.ts) over the `ballots` stream. A batch is stored in one transaction,
 * idempotent on the ballot id; the store itself refreshes the recent list and notifies.
 */
import type { Broker } from '../platform/broker/broker.js';
import { StreamConsumer, type ConsumerEvent } from '../platform/broker/stream-consumer.js';
import type { Logger } from '../platform/logger.js';
import type { Sql } from '../platform/sql/sql.js';
import { storeBallots, type StoreResult } from './ballot-store.js';
import { ballotsStream, deadLetterStream, subscribersGroup } from './protocol.js';
import { parseBallotEntry, type QueuedBallot } from './subscriber-entry.js';

export interface BallotConsumerOptions {
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
  onJoined?: () => void;
  observe?: (event: SubscriberEvent) => void;
}

export type SubscriberEvent = ConsumerEvent<StoreResult>;

export function createBallotConsumer(
  options: BallotConsumerOptions,
): StreamConsumer<QueuedBallot, StoreResult> {
  const { broker, sql, logger } = options;
  // A backlog of new ballots goes in by COPY until a batch holds one already stored.
  let firstTime = true;
  return new StreamConsumer<QueuedBallot, StoreResult>({
    ...options,
    stream: ballotsStream,
    group: subscribersGroup,
    deadLetterStream,
    role: 'subscriber',
    parse: parseBallotEntry,
    store: async (batch) => {
      const result = await storeBallots(
        sql,
        broker,
        batch.map((queued) => queued.ballot),
        'redis',
        { logger, firstTime },
      );
      firstTime = result.duplicates.length === 0;
      return result;
    },
  });
}
