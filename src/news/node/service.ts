/**
 * A news node (seed 002's "comisión"): subscriptions and news of the areas the agent assigned
 * to it, over NDJSON/TCP on 8005 (replicas 8006, 8007, ...), HTTP admin on its port + 100.
 * It announces its advertised address in Postgres and heartbeats there; the agent routes to it.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { ConfigError } from '../../platform/errors.js';
import type { ContextOf, ServiceHandle } from '../../platform/service.js';
import { parseAddress } from '../address.js';
import { type FrameHandler, listenFrames } from '../frame-server.js';
import { requestMetrics } from '../metrics.js';
import { NewsError } from '../protocol.js';
import { announceNode, withdrawNode } from '../routing.js';
import { loadSecret, requireStrongSecret } from '../sessions.js';
import type { newsNodeService } from './definition.js';
import { nodeHandler, nodeOps } from './ops.js';

export { newsNodeService } from './definition.js';

/** The node's code, which its definition (`definition.ts`) imports when it starts. */
export const newsNodeServer = {
  async start(ctx: ContextOf<typeof newsNodeService>): Promise<ServiceHandle> {
    const { config, logger, signal, sql } = ctx;
    requireStrongSecret(config.secret);
    let waiting = 'waiting for the schema';
    let handler: FrameHandler | undefined;
    ctx.readiness.add('secret and announcement', () =>
      handler === undefined ? Promise.reject(new Error(waiting)) : Promise.resolve(),
    );

    const frames = await listenFrames(
      {
        handle: (frame) =>
          handler === undefined
            ? Promise.reject(new NewsError('unavailable', `the node is starting: ${waiting}`))
            : handler(frame),
        logger,
        idleTimeoutMs: config.idleTimeoutMs,
        observe: requestMetrics(ctx.metrics, 'node', nodeOps),
      },
      ctx.host,
      ctx.port,
    );
    const address = config.advertise ?? `${advertisedHost(ctx.host)}:${frames.port}`;
    try {
      parseAddress(address);
    } catch {
      await frames.close();
      throw new ConfigError(
        'NEWS_NODE_ADVERTISE',
        `NEWS_NODE_ADVERTISE must be host:port, got "${address}"`,
      );
    }

    const running = ctx.schemaReady
      .then(async () => {
        if (signal.aborted) return;
        const secret = await loadSecret(sql, config.secret);
        await announceNode(sql, address);
        handler = nodeHandler({ sql, secret, address });
        logger.info({ address }, 'news node announced');
        await heartbeat(address, config.heartbeatMs);
      })
      .catch((error: unknown) => {
        if (signal.aborted) return;
        waiting = error instanceof Error ? error.message : String(error);
        logger.error({ err: error }, 'the news node cannot serve');
      });

    async function heartbeat(self: string, intervalMs: number): Promise<void> {
      while (!signal.aborted) {
        await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
        if (stopping(signal)) return;
        // A node marked dead by mistake (a slow ping) comes back with its next heartbeat.
        await announceNode(sql, self).catch((error: unknown) => {
          logger.warn({ err: error }, 'news node heartbeat failed');
        });
      }
    }

    const url = `tcp://${address}`;
    logger.info({ url, admin: ctx.adminPort }, 'news node listening');
    return {
      url,
      stop: async () => {
        await frames.close();
        await running;
        // Leaving cleanly hands its areas over at once instead of after a failed check.
        await withdrawNode(sql, address).catch(() => undefined);
      },
    };
  },
};

/** Read through a call: TypeScript would narrow `signal.aborted` to false after the loop test. */
const stopping = (signal: AbortSignal): boolean => signal.aborted;

function advertisedHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
