/**
 * The news agent (seed 002's "Agente"): accounts, sessions, admin area operations and routing
 * over NDJSON/TCP on port 8000, the node registry and its health checks, with an HTTP admin
 * port (8100) for /healthz, /readyz and /metrics. All state is in Postgres: agents can run
 * side by side and restart without losing anything.
 */
import type { ContextOf, ServiceHandle } from '../../platform/service.js';
import { callNews } from '../frame-client.js';
import { type FrameHandler, listenFrames } from '../frame-server.js';
import { requestMetrics } from '../metrics.js';
import { NewsError } from '../protocol.js';
import { loadSecret, requireStrongSecret } from '../sessions.js';
import type { newsAgentService } from './definition.js';
import { runHealthChecks } from './health-check.js';
import { agentHandler, agentOps, bootstrapAdmin } from './ops.js';

export { newsAgentService } from './definition.js';

const pingTimeoutMs = 1_000;

/** The agent's code, which its definition (`definition.ts`) imports when it starts. */
export const newsAgentServer = {
  async start(ctx: ContextOf<typeof newsAgentService>): Promise<ServiceHandle> {
    const { config, logger, signal, sql } = ctx;
    requireStrongSecret(config.secret);
    const routing = { replicas: config.replicas, deadAfterMs: config.deadAfterMs };
    const pingNode = (address: string) =>
      callNews(address, { op: 'ping' }, { timeoutMs: pingTimeoutMs }).then(
        () => true,
        () => false,
      );

    let waiting = 'waiting for the schema';
    let handler: FrameHandler | undefined;
    ctx.readiness.add('secret', () =>
      handler === undefined ? Promise.reject(new Error(waiting)) : Promise.resolve(),
    );

    const frames = await listenFrames(
      {
        handle: (frame) =>
          handler === undefined
            ? Promise.reject(new NewsError('unavailable', `the agent is starting: ${waiting}`))
            : handler(frame),
        logger,
        idleTimeoutMs: config.idleTimeoutMs,
        observe: requestMetrics(ctx.metrics, 'agent', agentOps),
      },
      ctx.host,
      ctx.port,
    );

    // The database may come up later: the ports answer (not ready) meanwhile.
    const running = ctx.schemaReady
      .then(async () => {
        if (signal.aborted) return;
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
    logger.info({ url, admin: ctx.adminPort }, 'news agent listening');
    return {
      url,
      stop: async () => {
        await frames.close();
        await running;
      },
    };
  },
};
