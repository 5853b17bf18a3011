/**
 * The vote service (seeds 000/001, part 4): a page with two options; `POST /` appends the
 * visitor's vote to the `votes` stream and answers 2xx only once it is there. One vote per
 * voter (a signed `voter_id` cookie); voting again changes it. This is its definition;
 * `vote-server.ts` is its code.
 */
import { settings } from '../platform/config.js';
import { developmentSetting } from '../platform/platform-settings.js';
import { defineService, type ServiceHandle } from '../platform/service.js';
import { labelSettings } from './labels.js';
import { pageLinkSettings } from './page-links.js';
import { developmentSecret } from './vote-secret.js';

export const voteService = defineService({
  name: 'vote',
  system: 'voting',
  description: 'Vote page; queues each vote on the votes stream',
  defaultPort: 8080,
  admin: { variable: 'VOTE_ADMIN_PORT' },
  // Stateless per request (the voter cookie is signed, the vote goes to Redis): replicas share 8080.
  scaling: 'shared-port',
  needs: ['broker'],
  settings: {
    ...labelSettings,
    resultPublicUrl: pageLinkSettings.resultPublicUrl,
    cookieSecret: settings.string('AGORA_VOTE_SECRET', {
      default: developmentSecret,
      secret: true,
      description:
        'Signs voter_id cookies; every vote replica needs the same one, of 32 characters or more.',
    }),
    development: developmentSetting,
  },

  async start(ctx): Promise<ServiceHandle> {
    const { startVote } = await import('./vote-server.js');
    return startVote(ctx);
  },
});
