/**
 * The election API (seed 004's Node API, port 3000): the REST endpoints behind each dashboard
 * view, a server-sent event stream that tells the dashboard when ballots were stored, and the
 * built dashboard itself. It declares the election migrations too, so it never answers
 * "relation does not exist" when it starts before the ingest services. This is its
 * definition; `server.ts` is its code.
 */
import { defineService, type ServiceHandle } from '../../platform/service.js';
import { electionMigrations } from '../migrations.js';

export const electionApiService = defineService({
  name: 'election-api',
  system: 'election',
  description: 'Election REST API, live SSE stream and the React dashboard',
  defaultPort: 3000,
  // 3100, its own port + 100, is the subscriber's.
  admin: { variable: 'ELECTION_API_ADMIN_PORT', defaultPort: 3004 },
  scaling: 'shared-port',
  needs: ['broker', 'sql'],
  migrations: electionMigrations,
  settings: {},

  async start(ctx): Promise<ServiceHandle> {
    const { startElectionApi } = await import('./server.js');
    return startElectionApi(ctx);
  },
});
