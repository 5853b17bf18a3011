/**
 * The news agent's definition, as the registry lists it: accounts, sessions, admin area
 * operations and routing over NDJSON/TCP on port 8000, an HTTP admin port (8100). Its code is
 * `service.ts`, imported only when it starts.
 */
import { defineService, type ServiceHandle } from '../../platform/service.js';
import { newsMigrations } from '../migrations.js';
import { agentSettings } from '../settings.js';

export const newsAgentService = defineService({
  name: 'news-agent',
  system: 'news',
  description: 'News accounts, areas and routing to nodes; NDJSON over TCP, admin HTTP on 8100',
  defaultPort: 8000,
  admin: { variable: 'NEWS_AGENT_ADMIN_PORT' },
  needs: ['sql'],
  migrations: newsMigrations,
  settings: agentSettings,

  async start(ctx): Promise<ServiceHandle> {
    const { newsAgentServer } = await import('./service.js');
    return newsAgentServer.start(ctx);
  },
});
