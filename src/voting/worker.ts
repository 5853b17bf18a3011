/**
 * The voting worker (seeds 000 and 001, part 4): moves votes from the `votes` stream into
 * Postgres through a consumer group, at least once, idempotently, several replicas at once.
 * It has no public port; its admin port serves /healthz, /readyz and /metrics.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Counter, Histogram, type Registry } from 'prom-client';
import { settings } from '../platform/config.js';
import { createHttpServer, listen } from '../platform/http/server.js';
import { defineService } from '../platform/service.js';
import { migrateWhenReady } from '../platform/sql/migrations.js';
import { votingMigrations } from './migrations.js';
import { votingSystem } from './protocol.js';
import { createVoteConsumer, type BatchEvent } from './worker-loop.js';

const workerSettings = {
  batchSize: settings.integer(
    'VOTE_BATCH_SIZE',
    { min: 1, max: 10_000 },
    { default: 2_000, description: 'Most votes a worker reads and commits in one transaction.' },
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
    { default: 5_000, description: 'How long stopping waits for the batch in flight.' },
  ),
};

export const workerService = defineService({
  name: 'worker',
  system: votingSystem,
  description: 'Moves votes from the Redis stream into Postgres and keeps the tally',
  defaultPort: 8090,
  needs: ['broker', 'sql'],
  settings: workerSettings,

  async start(ctx) {
    const { config, logger, signal } = ctx;
    const consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const observe = batchMetrics(ctx.metrics);

    let migrations = 'waiting for the database';
    let group = 'waiting for the broker';
    ctx.readiness.add('migrations', () => readyWhen(migrations));
    ctx.readiness.add('consumer group', () => readyWhen(group));

    const app = createHttpServer(ctx);
    const url = await listen(app, ctx.host, ctx.port);

    const loop = createVoteConsumer({
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
      observe,
    });
    // Migrations wait for Postgres in the background: the admin port answers meanwhile.
    const running = migrateWhenReady(ctx.sql, votingSystem, votingMigrations, {
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
        logger.error({ err: error }, 'the worker cannot run: its migrations failed');
      });

    logger.info({ consumer, admin: url }, 'worker consuming votes');
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
