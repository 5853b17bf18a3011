/**
 * The voting worker's consumer: the stream, group and dead-letter stream it reads, how an entry
 * is parsed, and the store that applies a batch of votes in one transaction keyed on the voter
 * (a later stream id wins), then publishes the new tally so the result page updates at once.
 */
import { startConsumerService } from '../platform/consumer/consumer-service.js';
import type { ContextOf, ServiceHandle } from '../platform/service.js';
import { type CastVote, parseVoteEntry } from './cast-vote.js';
import { deadLetterStream, talliesChannel, votesStream, workersGroup } from './protocol.js';
import { applyBatch } from './vote-store.js';
import type { workerService } from './worker.js';

export function startWorker(ctx: ContextOf<typeof workerService>): Promise<ServiceHandle> {
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
}
