/**
 * election-subscriber: the Redis route of seed 004, without the seed's loss. It moves ballots
 * from the `ballots` stream into Postgres through a consumer group, at least once and
 * idempotently on ballot id, several replicas at once. Its admin port serves /healthz, /readyz
 * and /metrics.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Counter, Histogram, type Registry } from 'prom-client';
import { settings } from '../platform/config.js';
import { createHttpServer, listen } from '../platform/http/server.js';
import { defineService } from '../platform/service.js';
import { migrateWhenReady } from '../platform/sql/migrations.js';
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

  async start(ctx) {
    const { config, logger, signal } = ctx;
    const consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

    let migrations = 'waiting for the database';
    let group = 'waiting for the broker';
    ctx.readiness.add('migrations', () => readyWhen(migrations));
    ctx.readiness.add('consumer group', () => readyWhen(group));

    const app = createHttpServer(ctx);
    const url = await listen(app, ctx.host, ctx.port);

    const loop = createBallotConsumer({
      broker: ctx.broker,
      sql: ctx.sql,
      logger: logger.child({ consumer }),
      consumer,
      batchSize: config.batchSize,
      blockMs: config.blockMs,
      reclaimIdleMs: config.reclaimIdleMs,
      signal,
      onJoined: () => {
        group = 'ok';
      },
      observe: subscriberMetrics(ctx.metrics),
    });
    // Migrations wait for Postgres in the background: the admin port answers meanwhile.
    const running = migrateWhenReady(ctx.sql, electionSystem, electionMigrations, {
      signal,
      logger,
      onWaiting: (reason) => {
        migrations = reason;
      },
    })
      .then(() => {
        migrations = 'ok';
        return loop.run();
      })
      .catch((error: unknown) => {
        if (signal.aborted) return;
        migrations = error instanceof Error ? error.message : String(error);
        logger.error({ err: error }, 'the subscriber cannot run: its migrations failed');
      });

    logger.info({ consumer, admin: url }, 'election-subscriber consuming ballots');
    return {
      url,
      stop: async () => {
        // The runtime aborts the signal first; the loop finishes or hands back its batch.
        await withDeadline(running, config.stopTimeoutMs);
        await app.close();
      },
    };
  },
});

function readyWhen(state: string): Promise<void> {
  return state === 'ok' ? Promise.resolve() : Promise.reject(new Error(state));
}

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

async function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
