/**
 * Waits until every running service is ready (what each `/readyz` says), so `agora up` prints
 * its table once everything answers; while one still waits, a line every so often names it
 * and what it waits for (a Postgres that is not up yet, a schema being migrated).
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { Logger } from '../platform/logger.js';

export interface ReadinessSource {
  name: string;
  readiness(): Promise<{ ready: boolean; checks: Record<string, string> }>;
}

const pollMs = 100;
const reportEveryMs = 10_000;

export async function waitUntilReady(
  services: readonly ReadinessSource[],
  logger: Logger,
  signal?: AbortSignal,
): Promise<void> {
  let waiting = [...services];
  let reportAt = Date.now() + reportEveryMs;
  while (waiting.length > 0 && signal?.aborted !== true) {
    const reports = await Promise.all(waiting.map(async (s) => [s, await s.readiness()] as const));
    waiting = reports.filter(([, report]) => !report.ready).map(([service]) => service);
    if (waiting.length === 0) return;
    if (Date.now() >= reportAt) {
      reportAt = Date.now() + reportEveryMs;
      const why = reports
        .filter(([, report]) => !report.ready)
        .map(([service, report]) => `${service.name} (${notReady(report.checks)})`);
      logger.warn(`still starting: ${why.join('; ')}`);
    }
    await sleep(pollMs, undefined, { signal }).catch(() => undefined);
  }
}

function notReady(checks: Record<string, string>): string {
  return Object.entries(checks)
    .filter(([, outcome]) => outcome !== 'ok')
    .map(([name, outcome]) => `${name}: ${outcome}`)
    .join(', ');
}
