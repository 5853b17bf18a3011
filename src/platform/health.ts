/**
 * Readiness: the checks behind `/readyz`. Each dependency a service waits for is a named check;
 * the report says which ones are not answering yet and why, so an operator sees what it waits for.
 */

export type ReadinessCheck = () => Promise<void>;

export interface ReadinessReport {
  ready: boolean;
  /** For each check: "ok", or why it is not ready. */
  checks: Record<string, string>;
}

const checkTimeoutMs = 1_000;

export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();

  /** Adds a check; it passes when the promise resolves within a second. */
  add(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]) => [name, await runCheck(check)] as const),
    );
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
