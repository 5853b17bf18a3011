/**
 * The result service (seeds 000/001, part 4): the tally as a live page, an SSE stream and
 * `GET /api/results`. It declares the voting migrations too, so it never answers
 * "relation does not exist" when it starts before the worker. This is its definition;
 * `result-server.ts` is its code.
 */
import { defineService, type ServiceHandle } from '../platform/service.js';
import { labelSettings } from './labels.js';
import { votingMigrations } from './migrations.js';
import { pageLinkSettings } from './page-links.js';

export const resultService = defineService({
  name: 'result',
  system: 'voting',
  description: 'Live results: page, SSE stream and JSON API',
  defaultPort: 8081,
  admin: { variable: 'RESULT_ADMIN_PORT' },
  scaling: 'shared-port',
  needs: ['broker', 'sql'],
  migrations: votingMigrations,
  settings: { ...labelSettings, votePublicUrl: pageLinkSettings.votePublicUrl },

  async start(ctx): Promise<ServiceHandle> {
    const { startResult } = await import('./result-server.js');
    return startResult(ctx);
  },
});
