/**
 * The tasks service (seed 003 and its sequel): a REST task API that concurrent clients hammer
 * without losing a task. Postgres holds the only copy, so any number of replicas (cluster
 * workers sharing the port, or containers behind a balancer) serve one truth. This is its
 * definition, as the registry lists it; `server.ts` is its code.
 */
import { defineService, type ServiceHandle } from '../platform/service.js';
import { tasksMigrations } from './migrations.js';
import { tasksSystem } from './protocol.js';

export const tasksService = defineService({
  name: 'tasks',
  system: tasksSystem,
  description: 'Task REST API (/tasks, /tareas); every acknowledged task is in Postgres',
  defaultPort: 9000,
  admin: { variable: 'TASKS_ADMIN_PORT' },
  needs: ['sql'],
  migrations: tasksMigrations,
  scaling: 'shared-port',
  settings: {},

  async start(ctx): Promise<ServiceHandle> {
    const { startTasks } = await import('./server.js');
    return startTasks(ctx);
  },
});
