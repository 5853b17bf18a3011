/**
 * The counter service (seeds 000 and 001, part 1): `GET /` counts a hit and answers with the
 * total. This is its definition, as the registry lists it; `server.ts` is its code.
 */
import { defineService, type ServiceHandle } from '../platform/service.js';

export const counterService = defineService({
  name: 'counter',
  system: 'counter',
  description: 'Web hit counter backed by Redis (or the embedded broker)',
  defaultPort: 5000,
  portAliases: ['BIND_PORT'],
  admin: { variable: 'COUNTER_ADMIN_PORT' },
  needs: ['broker'],
  settings: {},

  async start(ctx): Promise<ServiceHandle> {
    const { startCounter } = await import('./server.js');
    return startCounter(ctx);
  },
});
