/**
 * The tasks service (seed 003 and its sequel): a REST task API that concurrent clients hammer
 * without losing a task. Postgres holds the only copy, so any number of replicas (cluster
 * workers sharing the port, or containers behind a balancer) serve one truth.
 */
import { hostname } from 'node:os';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { UnavailableError } from '../platform/errors.js';
import { createHttpServer, listen } from '../platform/http/server.js';
import { defineService } from '../platform/service.js';
import { migrateWhenReady } from '../platform/sql/migrations.js';
import { tasksMigrations } from './migrations.js';
import { tasksSystem, type StatusReport } from './protocol.js';
import { RequestCounts } from './request-counts.js';
import { addTaskRoutes } from './routes.js';
import { statusSchema } from './schemas.js';
import { countByStatus } from './task-store.js';

/** Titles and descriptions are short; anything much larger is a mistake or an attack. */
const bodyLimit = 16 * 1024;

export const tasksService = defineService({
  name: 'tasks',
  system: tasksSystem,
  description: 'Task REST API (/tasks, /tareas); every acknowledged task is in Postgres',
  defaultPort: 9000,
  needs: ['sql'],
  scaling: 'shared-port',
  settings: {},

  async start(ctx) {
    const { logger, signal } = ctx;
    const instance = `${hostname()}:${process.pid}`;
    const startedAt = new Date();
    const counts = new RequestCounts();

    let migrations = 'waiting for the database';
    ctx.readiness.add('migrations', () =>
      migrations === 'ok' ? Promise.resolve() : Promise.reject(new Error(migrations)),
    );
    /** The SQL handle once the schema is there; until then task routes answer 503. */
    const sql = () => {
      if (migrations !== 'ok') {
        throw new UnavailableError('database', `Tasks are not served yet: ${migrations}.`);
      }
      return ctx.sql;
    };

    const app = createHttpServer(ctx, { bodyLimit });
    counts.attach(app);
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Agora tasks',
          version: ctx.version,
          description: 'The task API of seed 003. `/tareas` is an alias of `/tasks`.',
        },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });

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
        tasks: await countByStatus(sql()),
        ...counts.snapshot(),
      }),
    );

    const url = await listen(app, ctx.host, ctx.port);
    // Migrations wait for Postgres in the background: /readyz says so meanwhile.
    const migrated = migrateWhenReady(ctx.sql, tasksSystem, tasksMigrations, {
      signal,
      logger,
      onWaiting: (reason) => {
        migrations = reason;
      },
    }).then(
      () => {
        migrations = 'ok';
      },
      (error: unknown) => {
        if (signal.aborted) return;
        migrations = error instanceof Error ? error.message : String(error);
        logger.error({ err: error }, 'tasks cannot be served: the migrations failed');
      },
    );

    logger.info({ url, instance }, 'tasks serving');
    return {
      url,
      stop: async () => {
        await app.close();
        await migrated;
      },
    };
  },
});
