/**
 * The voting worker (seeds 000 and 001, part 4): moves votes from the `votes` stream into
 * Postgres through a consumer group, at least once, idempotently, several replicas at once. A
 * batch is applied in one transaction keyed on the voter (a later stream id wins); after the
 * commit the new tally is published so the result page updates at once. It has no public
 * port; its admin port serves /healthz, /readyz and /metrics. This is its definition;
 * `worker-consumer.ts` is its code.
 */
import { consumerSettings } from '../platform/consumer/consumer-settings.js';
import { defineService, type ServiceHandle } from '../platform/service.js';
import { votingMigrations } from './migrations.js';

export const workerService = defineService({
  name: 'worker',
  system: 'voting',
  description: 'Moves votes from the Redis stream into Postgres and keeps the tally',
  defaultPort: 8090,
  needs: ['broker', 'sql'],
  migrations: votingMigrations,
  settings: consumerSettings({
    prefix: 'VOTE',
    items: 'votes',
    role: 'worker',
    // Postgres spends per batch as well as per vote: in a drain, its CPU per vote fell by a
    // fifth from 2,000 a batch to 5,000; 10,000 saved it no more and cost Redis and memory more.
    batchSize: 5_000,
    concurrency: 2,
  }),

  async start(ctx): Promise<ServiceHandle> {
    const { startWorker } = await import('./worker-consumer.js');
    return startWorker(ctx);
  },
});
