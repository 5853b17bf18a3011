/**
 * The voting worker (seeds 000 and 001, part 4): moves votes from the `votes` stream into
 * Postgres through a consumer group, at least once, idempotently, several replicas at once. A
 * batch is applied in one transaction keyed on the voter (a later stream id wins); after the
 * commit the new tally is published so the result page updates at once. It has no public
 * port; its admin port serves /healthz, /readyz and /metrics.
 */
import { consumerSettings, startConsumerService } from '../platform/consumer/consumer-service.js';
import { defineService } from '../platform/service.js';
import { type CastVote, parseVoteEntry } from './cast-vote.js';
import { votingMigrations } from './migrations.js';
import { deadLetterStream, talliesChannel, votesStream, workersGroup } from './protocol.js';
import { applyBatch } from './vote-store.js';

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
    batchSize: 2_000,
    concurrency: 2,
  }),

  start(ctx) {
    // Whether the last batch's voters were all new: then the next one tries the fast path.
    let firstTimeVoters = true;
    return startConsumerService(ctx, {
      stream: votesStream,
      group: workersGroup,
      deadLetterStream,
      role: 'worker',
      parse: parseVoteEntry,
      store: async (votes: readonly CastVote[]) => {
        const applied = await applyBatch(ctx.sql, votes, { firstTimeVoters });
        firstTimeVoters = applied.firstTimeVoters;
        return applied;
      },
      // The tally can be recomputed from the table, so a lost notification is only logged.
      afterCommit: ({ tally }) => ctx.broker.publish(talliesChannel, JSON.stringify(tally)),
      metrics: {
        prefix: 'voting',
        stored: {
          name: 'voting_votes_applied_total',
          help: 'Votes committed to Postgres, redeliveries and superseded votes included.',
        },
      },
    });
  },
});
