/**
 * The tasks server: the task routes at `/tasks` and `/tareas`, `/status` with the counts and
 * this instance, for the cluster worker or container that answers, and `/` linking to them.
 */
import { hostname } from 'node:os';

import { addApiIndex } from '../platform/http/api-index.js';
import { createHttpServer, listen } from '../platform/http/server.js';
import type { ContextOf, ServiceHandle } from '../platform/service.js';
import type { StatusReport } from './protocol.js';
import { RequestCounts } from './request-counts.js';
import { addTaskRoutes } from './routes.js';
import { statusSchema } from './schemas.js';
import type { tasksService } from './service.js';
import { countByStatus } from './task-store.js';

/** Titles and descriptions are short; anything much larger is a mistake or an attack. */
const bodyLimit = 16 * 1024;

export async function startTasks(ctx: ContextOf<typeof tasksService>): Promise<ServiceHandle> {
  const { logger, sql } = ctx;
  const instance = `${hostname()}:${process.pid}`;
  const startedAt = new Date();
  const counts = new RequestCounts();

  const app = await createHttpServer(ctx, {
    bodyLimit,
    title: 'Agora tasks',
    description: 'The task API of seed 003. `/tareas` is an alias of `/tasks`.',
  });
  counts.attach(app);
  addApiIndex(app, {
    service: ctx.name,
    description: 'The task API of seed 003: add, list, change and finish tasks.',
    links: { tasks: '/tasks', tareas: '/tareas', status: '/status' },
    icon: { color: '#7c3aed', glyph: 'T' },
  });

  addTaskRoutes(app, '/tasks', sql);
  addTaskRoutes(app, '/tareas', sql);
  app.get(
    '/status',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Counts and this instance',
        response: { 200: statusSchema },
      },
    },
    async (): Promise<StatusReport> => ({
      service: ctx.name,
      instance,
      pid: process.pid,
      started_at: startedAt.toISOString(),
      uptime_seconds: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
      tasks: await countByStatus(sql),
      ...counts.snapshot(),
    }),
  );

  const url = await listen(app, ctx.host, ctx.port);
  logger.info({ url, instance }, 'tasks serving');
  return { url, stop: () => app.close() };
}
