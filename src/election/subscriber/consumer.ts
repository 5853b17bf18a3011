/**
 * election-subscriber's consumer: the stream, group and dead-letter stream it reads, how an
 * entry is parsed, and the store that commits a batch of ballots idempotently on ballot id.
 */
import { startConsumerService } from '../../platform/consumer/consumer-service.js';
import type { ContextOf, ServiceHandle } from '../../platform/service.js';
import { storeBallots } from '../ballot-store.js';
import { ballotsStream, deadLetterStream, subscribersGroup } from '../protocol.js';
import { parseBallotEntry, type QueuedBallot } from './entry.js';
import type { electionSubscriberService } from './service.js';

export function startElectionSubscriber(
  ctx: ContextOf<typeof electionSubscriberService>,
): Promise<ServiceHandle> {
  const { logger } = ctx;
  // A backlog of new ballots goes in by COPY until a batch holds one already stored; the
  // idempotent insert then runs until a batch is all new again.
  let firstTime = true;
  return startConsumerService(ctx, {
    stream: ballotsStream,
    group: subscribersGroup,
    deadLetterStream,
    role: 'subscriber',
    parse: parseBallotEntry,
    store: async (batch: readonly QueuedBallot[]) => {
      const result = await storeBallots(
        ctx.sql,
        ctx.broker,
        batch.map((queued) => queued.ballot),
        'redis',
        // The gateway answered long ago: keep the first ballot of an id, log the other.
        { logger, onConflict: 'skip', firstTime },
      );
      firstTime = result.duplicates.length === 0;
      return result;
    },
    metrics: {
      prefix: 'election_subscriber',
      stored: {
        name: 'election_subscriber_ballots_total',
        help: 'Ballots read from the stream and committed: stored, or duplicate (already stored).',
        outcomes: ({ stored, duplicates }) => ({
          stored: stored.length,
          duplicate: duplicates.length,
        }),
      },
    },
  });
}
