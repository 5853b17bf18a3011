/**
 * election-subscriber: the Redis route of seed 004, without the seed's loss. It moves ballots
 * from the `ballots` stream into Postgres through a consumer group, at least once and
 * idempotently on ballot id, several replicas at once; the store itself refreshes the recent
 * list and notifies. Its admin port serves /healthz, /readyz and /metrics.
 */
import {
  consumerSettings,
  startConsumerService,
} from '../../platform/consumer/consumer-service.js';
import { defineService } from '../../platform/service.js';
import { storeBallots } from '../ballot-store.js';
import { electionMigrations } from '../migrations.js';
import { ballotsStream, deadLetterStream, subscribersGroup } from '../protocol.js';
import { parseBallotEntry, type QueuedBallot } from './entry.js';

export const electionSubscriberService = defineService({
  name: 'election-subscriber',
  system: 'election',
  description: 'Moves ballots from the Redis stream into Postgres (consumer group)',
  defaultPort: 3100,
  needs: ['broker', 'sql'],
  migrations: electionMigrations,
  settings: consumerSettings({
    prefix: 'ELECTION_SUBSCRIBER',
    items: 'ballots',
    role: 'subscriber',
    batchSize: 1_000,
  }),

  start(ctx) {
    const { logger } = ctx;
    return startConsumerService(ctx, {
      stream: ballotsStream,
      group: subscribersGroup,
      deadLetterStream,
      role: 'subscriber',
      parse: parseBallotEntry,
      store: (batch: readonly QueuedBallot[]) =>
        storeBallots(
          ctx.sql,
          ctx.broker,
          batch.map((queued) => queued.ballot),
          'redis',
          // The gateway answered long ago: keep the first ballot of an id, log the other.
          { logger, onConflict: 'skip' },
        ),
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
  },
});
