/**
 * A news node's definition, as the registry lists it: subscriptions and news of the areas the
 * agent assigned to it, over NDJSON/TCP on 8005 (replicas 8006, 8007, ...), HTTP admin on its
 * port + 100. Its code is `service.ts`, imported only when it starts.
 */
import { defineService, type ServiceHandle } from '../../platform/service.js';
import { newsMigrations } from '../migrations.js';
import { nodeSettings } from '../settings.js';

export const newsNodeService = defineService({
  name: 'news-node',
  system: 'news',
  description: 'News of the areas assigned to it; NDJSON over TCP, admin HTTP on port + 100',
  defaultPort: 8005,
  admin: { variable: 'NEWS_NODE_ADMIN_PORT' },
  needs: ['sql'],
  migrations: newsMigrations,
  settings: nodeSettings,

  async start(ctx): Promise<ServiceHandle> {
    const { newsNodeServer } = await import('./service.js');
    return newsNodeServer.start(ctx);
  },
});
