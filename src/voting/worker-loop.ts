/**
 * The voting worker's consumer: the shared stream-consumer loop (src/platform/broker/
 * stream-consumer.ts) over the `votes` stream. A batch is applied in one transaction keyed on
 * the voter (a later stream id wins); after the commit the new tally is published so the result
 * page updates at once.
 */
import type { Broker } from '../platform/broker/broker.js';
import { StreamConsumer, type ConsumerEvent } from '../platform/broker/stream-consumer.js';
import type { Logger } from '../platform/logger.js';
import type { Sql } from '../platform/sql/sql.js';
import { parseVoteEntry, type CastVote } from './cast-vote.js';
import { deadLetterStream, talliesChannel, votesStream, workersGroup } from './protocol.js';
import { applyBatch, type AppliedBatch } from './vote-store.js';

export interface VoteConsumerOptions {
  broker: Broker;
  sql: Sql;
  logger: Logger;
  /** This loop's name in the consumer group; no other loop, here or elsewhere, uses it. */
  consumer: string;
  batchSize: number;
  blockMs: number;
  /** Entries pending this long are taken to belong to a dead worker and are reclaimed. */
  reclaimIdleMs: number;
  signal: AbortSignal;
  onJoined?: () => void;
  observe?: (event: BatchEvent) => void;
}

export type BatchEvent = ConsumerEvent<AppliedBatch>;

export function createVoteConsumer(
  options: VoteConsumerOptions,
): StreamConsumer<CastVote, AppliedBatch> {
  const { broker, sql } = options;
  // Whether the last batch's voters were all new: then the next one tries the fast path.
  let firstTimeVoters = true;
  return new StreamConsumer<CastVote, AppliedBatch>({
    ...options,
    stream: votesStream,
    group: workersGroup,
    deadLetterStream,
    role: 'worker',
    parse: parseVoteEntry,
    store: async (votes) => {
      const applied = await applyBatch(sql, votes, { firstTimeVoters });
      firstTimeVoters = applied.firstTimeVoters;
      return applied;
    },
    // The tally can be recomputed from the table, so a lost notification is only logged.
    afterCommit: ({ tally }) => broker.publish(talliesChannel, JSON.stringify(tally)),
  });
}
