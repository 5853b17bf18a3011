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
import { clientTlsOf, serverTlsOf } from '../tls.js';
import type { newsAgentService } from './definition.js';
import { runHealthChecks } from './health-check.js';
import { LoginGuard } from './login-guard.js';
import { agentHandler, agentOps, bootstrapAdmin } from './ops.js';

export { newsAgentService } from './definition.js';

/** A health-check ping's deadline: a node on a busy machine may take a moment to answer. */
const pingTimeoutMs = 1_000;
/**
 * A ping of a node a client reports unreachable has half that: the client is waiting for a new
 * route within its own deadline (1 s per attempt at the least), so the agent must answer first.
 */
const reportedPingTimeoutMs = 500;

/** The agent's code, which its definition (`definition.ts`) imports when it starts. */
export const newsAgentServer = {
  async start(ctx: ContextOf<typeof newsAgentService>): Promise<ServiceHandle> {
    const { config, logger, signal, sql } = ctx;
    requireStrongSecret(config.secret);
    const routing = { replicas: config.replicas, deadAfterMs: config.deadAfterMs };
    const tls = serverTlsOf(config);
    // An agent that speaks TLS reaches its nodes over TLS too: a deployment is one or the other.
    const nodeTls = tls === undefined ? undefined : clientTlsOf('NEWS_TLS_CA', config.tlsCa);
    const guard = new LoginGuard({
      freeFailures: { name: config.loginFreeFailures, address: config.loginFreeFailuresPerAddress },
      backoffMs: config.loginBackoffMs,
      backoffMaxMs: config.loginBackoffMaxMs,
      maxInFlight: config.maxPasswordChecks,
    });
    const ping = (address: string, timeoutMs: number) =>
      callNews(address, { op: 'ping' }, { timeoutMs, tls: nodeTls }).then(
        () => true,
        () => false,
      );
    const pingNode = (address: string) => ping(address, pingTimeoutMs);
    const pingReported = (address: string) => ping(address, reportedPingTimeoutMs);

    let waiting = 'waiting for the schema';
    let handler: FrameHandler | undefined;
    ctx.readiness.add('secret', () =>
      handler === undefined ? Promise.reject(new Error(waiting)) : Promise.resolve(),
    );

    const frames = await listenFrames(
      {
        handle: (frame, peer) =>
          handler === undefined
            ? Promise.reject(new NewsError('unavailable', `the agent is starting: ${waiting}`))
            : handler(frame, peer),
        logger,
        idleTimeoutMs: config.idleTimeoutMs,
        handlerTimeoutMs: config.handlerTimeoutMs,
        connections: { max: config.maxConnections, perAddress: config.maxConnectionsPerAddress },
        tls,
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
          guard,
          pingNode: pingReported,
        });
        await runHealthChecks({
          sql,
          routing,
          intervalMs: config.healthCheckMs,
          pingNode,
          logger,
          signal,
          judgeStaleAfter: Date.now() + config.deadAfterMs,
        });
      })
      .catch((error: unknown) => {
        if (signal.aborted) return;
        waiting = error instanceof Error ? error.message : String(error);
        logger.error({ err: error }, 'the news agent cannot serve');
      });

    const url = `${tls === undefined ? 'tcp' : 'tls'}://${ctx.host}:${frames.port}`;
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
