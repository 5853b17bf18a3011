/**
 * election-subscriber: the Redis route of seed 004, without the seed's loss. It moves ballots
 * from the `ballots` stream into Postgres through a consumer group, at least once and
 * idempotently on ballot id, several replicas at once. Its admin port serves /healthz, /readyz
 * and /metrics.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { settings } from '../platform/config.js';
import { startConsumerService } from '../platform/broker/consumer-service.js';
import { defineService } from '../platform/service.js';
import { electionMigrations } from './migrations.js';
import { electionSystem } from './protocol.js';
import { createBallotConsumer, type SubscriberEvent } from './subscriber-loop.js';

const subscriberSettings = {
  batchSize: settings.integer(
    'ELECTION_SUBSCRIBER_BATCH_SIZE',
    { min: 1, max: 10_000 },
    { default: 1_000, description: 'Most ballots a subscriber reads and commits at once.' },
  ),
  blockMs: settings.integer(
    'ELECTION_SUBSCRIBER_BLOCK_MS',
    { min: 10, max: 60_000 },
    { default: 1_000, description: 'How long a subscriber waits on an empty stream per read.' },
  ),
  reclaimIdleMs: settings.integer(
    'ELECTION_SUBSCRIBER_RECLAIM_IDLE_MS',
    { min: 100, max: 3_600_000 },
    {
      default: 30_000,
      description: 'After how long a pending ballot is taken from a subscriber presumed dead.',
    },
  ),
  stopTimeoutMs: settings.integer(
    'ELECTION_SUBSCRIBER_STOP_TIMEOUT_MS',
    { min: 100, max: 600_000 },
    { default: 5_000, description: 'How long stopping waits for the batch in flight.' },
  ),
};

export const electionSubscriberService = defineService({
  name: 'election-subscriber',
  system: electionSystem,
  description: 'Moves ballots from the Redis stream into Postgres (consumer group)',
  defaultPort: 3100,
  needs: ['broker', 'sql'],
  settings: subscriberSettings,

  start(ctx) {
    const { config } = ctx;
    const observe = subscriberMetrics(ctx.metrics);
    return startConsumerService(ctx, {
      system: electionSystem,
      migrations: electionMigrations,
      role: 'subscriber',
      consumes: 'ballots',
      stopTimeoutMs: config.stopTimeoutMs,
      createLoop: ({ consumer, logger, onJoined }) =>
        createBallotConsumer({
          broker: ctx.broker,
          sql: ctx.sql,
          logger,
          consumer,
          batchSize: config.batchSize,
          blockMs: config.blockMs,
          reclaimIdleMs: config.reclaimIdleMs,
          signal: ctx.signal,
          onJoined,
          observe,
        }),
    });
  },
});

function subscriberMetrics(registry: Registry): (event: SubscriberEvent) => void {
  const ballots = new Counter({
    name: 'election_subscriber_ballots_total',
    help: 'Ballots read from the stream and committed: stored, or duplicate (already stored).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'election_subscriber_dead_letters_total',
    help: 'Unparseable stream entries moved to the dead-letter stream.',
    registers: [registry],
  });
  const reclaimed = new Counter({
    name: 'election_subscriber_entries_reclaimed_total',
    help: 'Stream entries taken over from subscribers presumed dead.',
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: 'election_subscriber_batch_duration_seconds',
    help: 'Time to store one batch in one transaction.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return (event) => {
    if (event.kind === 'stored') {
      const { stored, duplicates } = event.result;
      if (stored.length > 0) ballots.inc({ outcome: 'stored' }, stored.length);
      if (duplicates.length > 0) ballots.inc({ outcome: 'duplicate' }, duplicates.length);
      batchSeconds.observe(event.seconds);
    } else if (event.kind === 'dead-lettered') {
      deadLetters.inc(event.entries);
    } else {
      reclaimed.inc(event.entries);
    }
  };
}
