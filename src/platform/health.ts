/**
 * Readiness: the checks behind `/readyz`. Each dependency a service waits for is a named check;
 * the report says which ones are not answering yet and why, so an operator sees what it waits for.
 * Why can name internal hosts and driver errors, so a public port shows only which checks wait
 * (`summarize`); the reasons go to the log when they change, and the admin port shows them.
 */
import type { Logger } from './logger.js';

export type ReadinessCheck = () => Promise<void>;

export interface ReadinessReport {
  ready: boolean;
  /** For each check: "ok", or why it is not ready. */
  checks: Record<string, string>;
}

const checkTimeoutMs = 1_000;

/** What a public `/readyz` says of a check that is not ready. */
export const publicWaiting = 'waiting';

/** The report without the reasons: "ok" or "waiting" per check, for a public port. */
export function summarize(report: ReadinessReport): ReadinessReport {
  const checks = Object.fromEntries(
    Object.entries(report.checks).map(([name, outcome]) => [
      name,
      outcome === 'ok' ? 'ok' : publicWaiting,
    ]),
  );
  return { ready: report.ready, checks };
}

export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();
  readonly #last = new Map<string, string>();
  /** Checks that have passed once: failing after that is a warning, not start-up. */
  readonly #everReady = new Set<string>();

  /** With a logger, each change of a check's outcome is logged with its reason. */
  constructor(private readonly logger?: Logger) {}

  /** Adds a check; it passes when the promise resolves within a second. */
  add(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]) => [name, await runCheck(check)] as const),
    );
    for (const [name, outcome] of entries) {
      if (this.#last.get(name) === outcome) continue;
      // Waiting at start-up is expected (info); losing what was ready is worth a warning.
      if (outcome !== 'ok' && this.#everReady.has(name)) {
        this.logger?.warn({ check: name, reason: outcome }, 'not ready');
      } else if (outcome !== 'ok') {
        this.logger?.info({ check: name, reason: outcome }, 'not ready yet');
      } else if (this.#last.has(name)) {
        this.logger?.info({ check: name }, this.#everReady.has(name) ? 'ready again' : 'ready');
      }
      if (outcome === 'ok') this.#everReady.add(name);
      this.#last.set(name, outcome);
    }
    return {
      ready: entries.every(([, outcome]) => outcome === 'ok'),
      checks: Object.fromEntries(entries),
    };
  }
}

async function runCheck(check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      resolve(`no answer within ${checkTimeoutMs} ms`);
    }, checkTimeoutMs);
  });
  try {
    return await Promise.race([check().then(() => 'ok'), timeout]);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}
