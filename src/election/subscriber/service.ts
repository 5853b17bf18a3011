/**
 * election-subscriber: the Redis route of seed 004, without the seed's loss. It moves ballots
 * from the `ballots` stream into Postgres through a consumer group, at least once and
 * idempotently on ballot id, several replicas at once; the store itself refreshes the recent
 * list and notifies. Its admin port serves /healthz, /readyz and /metrics. This is its
 * definition; `consumer.ts` is its code.
 */
import { consumerSettings } from '../../platform/consumer/consumer-settings.js';
import { defineService, type ServiceHandle } from '../../platform/service.js';
import { electionMigrations } from '../migrations.js';

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
    // The summary rows a batch touches and its round trips are paid per batch: in a drain,
    // 4,000 a batch cost the subscriber a quarter less CPU per ballot than 1,000.
    batchSize: 4_000,
    // One batch is read, parsed and acked while the other commits: Postgres is the drain's
    // bottleneck, and one loop left it idle between its own commits.
    concurrency: 2,
  }),

  async start(ctx): Promise<ServiceHandle> {
    const { startElectionSubscriber } = await import('./consumer.js');
    return startElectionSubscriber(ctx);
  },
});
