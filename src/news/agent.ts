/**
 * The news agent (seed 002's "Agente"): accounts, sessions, admin area operations and routing
 * over NDJSON/TCP on port 8000, the node registry and its health checks, with an HTTP admin
 * port (8100) for /healthz, /readyz and /metrics. All state is in Postgres: agents can run
 * side by side and restart without losing anything.
 */
import { createHttpServer, listen } from '../platform/http/server.js';
import { defineService } from '../platform/service.js';
import { migrateWhenReady } from '../platform/sql/migrations.js';
import { agentHandler, agentOps, bootstrapAdmin } from './agent-ops.js';
import { callNews, listenFrames, type FrameHandler } from './framing.js';
import { runHealthChecks } from './health-check.js';
import { requestMetrics } from './metrics.js';
import { newsMigrations } from './migrations.js';
import { NewsError, newsSystem } from './protocol.js';
import { loadSecret, requireStrongSecret } from './sessions.js';
import { agentSettings } from './settings.js';

const pingTimeoutMs = 1_000;

export const newsAgentService = defineService({
  name: 'news-agent',
  system: newsSystem,
  description: 'News accounts, areas and routing to nodes; NDJSON over TCP, admin HTTP on 8100',
  defaultPort: 8000,
  adminPort: 8100,
  needs: ['sql'],
  settings: agentSettings,

  async start(ctx) {
    const { config, logger, signal, sql } = ctx;
    requireStrongSecret(config.secret);
    const routing = { replicas: config.replicas, deadAfterMs: config.deadAfterMs };
    const pingNode = (address: string) =>
      callNews(address, { op: 'ping' }, { timeoutMs: pingTimeoutMs }).then(
        () => true,
        () => false,
      );

    let waiting = 'waiting for the database';
    let handler: FrameHandler | undefined;
    ctx.readiness.add('schema and secret', () =>
      handler === undefined ? Promise.reject(new Error(waiting)) : Promise.resolve(),
    );

    const admin = createHttpServer(ctx);
    const adminUrl = await listen(admin, ctx.host, config.adminPort ?? ctx.port + 100);
    const frames = await listenFrames(
      {
        handle: (frame) =>
          handler === undefined
            ? Promise.reject(new NewsError('unavailable', `the agent is starting: ${waiting}`))
            : handler(frame),
        logger,
        idleTimeoutMs: config.idleTimeoutMs,
        http: (socket) => admin.server.emit('connection', socket),
        observe: requestMetrics(ctx.metrics, 'agent', agentOps),
      },
      ctx.host,
      ctx.port,
    );

    // The database may come up later: the ports answer (not ready) meanwhile.
    const running = migrateWhenReady(sql, newsSystem, newsMigrations, {
      signal,
      logger,
      onWaiting: (reason) => {
        waiting = reason;
      },
    })
      .then(async () => {
        const secret = await loadSecret(sql, config.secret);
        if (config.adminName !== undefined && config.adminPassword !== undefined) {
          if (!(await bootstrapAdmin(sql, config.adminName, config.adminPassword))) {
            logger.error(
              { name: config.adminName },
              'NEWS_ADMIN_NAME belongs to an ordinary user: no admin created; choose another name',
            );
          }
        }
        handler = agentHandler({
          sql,
          secret,
          routing,
          tokenTtlSeconds: config.tokenTtlSeconds,
          pingNode,
        });
        await runHealthChecks({
          sql,
          routing,
          intervalMs: config.healthCheckMs,
          pingNode,
          logger,
          signal,
        });
      })
      .catch((error: unknown) => {
        if (signal.aborted) return;
        waiting = error instanceof Error ? error.message : String(error);
        logger.error({ err: error }, 'the news agent cannot serve');
      });

    const url = `tcp://${ctx.host}:${frames.port}`;
    logger.info({ url, admin: adminUrl }, 'news agent listening');
    return {
      url,
      stop: async () => {
        await frames.close();
        await running;
        await admin.close();
      },
    };
  },
});
