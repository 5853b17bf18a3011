/**
 * The voting worker (seeds 000 and 001, part 4): moves votes from the `votes` stream into
 * Postgres through a consumer group, at least once, idempotently, several replicas at once.
 * It has no public port; its admin port serves /healthz, /readyz and /metrics.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { settings } from '../platform/config.js';
import { startConsumerService } from '../platform/broker/consumer-service.js';
import { defineService } from '../platform/service.js';
import { votingMigrations } from './migrations.js';
import { votingSystem } from './protocol.js';
import { createVoteConsumer, type BatchEvent } from './worker-loop.js';

const workerSettings = {
  batchSize: settings.integer(
    'VOTE_BATCH_SIZE',
    { min: 1, max: 10_000 },
    { default: 2_000, description: 'Most votes a worker reads and commits in one transaction.' },
  ),
  concurrency: settings.integer(
    'VOTE_CONCURRENCY',
    { min: 1, max: 8 },
    {
      default: 2,
      description:
        'Batches one worker has in flight at once, each its own consumer in the group: one ' +
        'is read and parsed while another commits. At most 8, so the loops fit the Postgres ' +
        'pool (10 connections).',
    },
  ),
  blockMs: settings.integer(
    'VOTE_BLOCK_MS',
    { min: 10, max: 60_000 },
    { default: 1_000, description: 'How long a worker waits on an empty stream per read.' },
  ),
  reclaimIdleMs: settings.integer(
    'VOTE_RECLAIM_IDLE_MS',
    { min: 100, max: 3_600_000 },
    {
      default: 30_000,
      description: 'After how long a pending vote is taken from a worker presumed dead.',
    },
  ),
  stopTimeoutMs: settings.integer(
    'VOTE_STOP_TIMEOUT_MS',
    { min: 100, max: 600_000 },
    { default: 5_000, description: 'How long stopping waits for the batches in flight.' },
  ),
};

export const workerService = defineService({
  name: 'worker',
  system: votingSystem,
  description: 'Moves votes from the Redis stream into Postgres and keeps the tally',
  defaultPort: 8090,
  needs: ['broker', 'sql'],
  settings: workerSettings,

  start(ctx) {
    const { config } = ctx;
    const observe = batchMetrics(ctx.metrics);
    return startConsumerService(ctx, {
      system: votingSystem,
      migrations: votingMigrations,
      role: 'worker',
      consumes: 'votes',
      stopTimeoutMs: config.stopTimeoutMs,
      concurrency: config.concurrency,
      createLoop: ({ consumer, logger, onJoined }) =>
        createVoteConsumer({
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

function batchMetrics(registry: Registry): (event: BatchEvent) => void {
  const applied = new Counter({
    name: 'voting_votes_applied_total',
    help: 'Votes committed to Postgres, redeliveries and superseded votes included.',
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'voting_dead_letters_total',
    help: 'Unparseable stream entries moved to the dead-letter stream.',
    registers: [registry],
  });
  const reclaimed = new Counter({
    name: 'voting_entries_reclaimed_total',
    help: 'Stream entries taken over from workers presumed dead.',
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: 'voting_batch_duration_seconds',
    help: 'Time to apply one batch in one transaction.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return (event) => {
    if (event.kind === 'stored') {
      applied.inc(event.items);
      batchSeconds.observe(event.seconds);
    } else if (event.kind === 'dead-lettered') {
      deadLetters.inc(event.entries);
    } else {
      reclaimed.inc(event.entries);
    }
  };
}
