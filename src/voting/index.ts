/** The voting system (seeds 000 and 001, part 4): vote -> stream -> worker -> Postgres -> results. */
import { defineSystem } from '../platform/system.js';
import { deadLetterStream, votesStream, workersGroup } from './protocol.js';
import { resultService } from './result.js';
import { voteService } from './vote.js';
import { workerService } from './worker.js';

export const voting = defineSystem({
  name: 'voting',
  description: 'Vote page, a stream, a worker into Postgres and live results',
  services: [voteService, workerService, resultService],
  loadProfile: async () => (await import('./load-profile.js')).votingLoadProfile,
  console: { queues: [{ stream: votesStream, group: workersGroup, deadLetterStream }] },
});
