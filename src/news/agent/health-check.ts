/**
 * The agent's health-check loop: every interval, ping each node believed alive; one that does
 * not answer, or whose heartbeat is stale, is marked dead; then areas are rebalanced (dead
 * nodes' areas move to live ones, a rejoined node takes a share, new areas find a node).
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { Logger } from '../../platform/logger.js';
import type { Sql } from '../../platform/sql/sql.js';
import { aliveNodes, markNodeDead, rebalance, type RoutingOptions } from '../routing.js';

export interface HealthCheckOptions {
  sql: Sql;
  routing: RoutingOptions;
  intervalMs: number;
  pingNode(address: string): Promise<boolean>;
  logger: Logger;
  signal: AbortSignal;
  /**
   * Until then (ms since the epoch) no node is judged dead: after a crash the stack restarts
   * its nodes with its agent, and a node of the previous run (its heartbeat stale, or still
   * fresh but not listening yet) announces itself again within a heartbeat.
   */
  judgeStaleAfter?: number;
}

export async function checkNodesOnce(options: HealthCheckOptions): Promise<void> {
  const { sql, routing, logger } = options;
  const nodes = await aliveNodes(sql, routing);
  const verdicts = await Promise.all(
    nodes.map(async (node) => ({
      ...node,
      answers: node.fresh && (await options.pingNode(node.address)),
    })),
  );
  const judgeStale = Date.now() >= (options.judgeStaleAfter ?? 0);
  for (const node of verdicts) {
    if (node.answers || !judgeStale) continue;
    logger.warn(
      { node: node.address, reason: node.fresh ? 'no answer to ping' : 'heartbeat too old' },
      'news node is dead; moving its areas',
    );
    await markNodeDead(sql, node.address, routing);
  }
  const plan = await rebalance(sql, routing);
  if (plan.add.length + plan.remove.length > 0) {
    logger.info({ added: plan.add.length, removed: plan.remove.length }, 'areas rebalanced');
  }
}

/** Read through a call: TypeScript would narrow `signal.aborted` to false after the loop test. */
const stopping = (signal: AbortSignal): boolean => signal.aborted;

/** Runs the check every interval until the signal aborts; a failed round is logged, not fatal. */
export async function runHealthChecks(options: HealthCheckOptions): Promise<void> {
  while (!options.signal.aborted) {
    try {
      await checkNodesOnce(options);
    } catch (error) {
      if (stopping(options.signal)) return;
      options.logger.warn({ err: error }, 'news health check failed; retrying next interval');
    }
    await sleep(options.intervalMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
