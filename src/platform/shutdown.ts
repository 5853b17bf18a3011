/**
 * Graceful shutdown on SIGINT/SIGTERM: run the stop function once, exit 0 when it finishes,
 * exit 1 when it overruns its deadline; a second signal exits at once.
 */
import type { Logger } from './logger.js';

export interface ShutdownOptions {
  timeoutMs: number;
  logger: Logger;
}

export function stopOnSignals(stop: () => Promise<void>, options: ShutdownOptions): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      options.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    options.logger.info({ signal }, 'stopping');
    const deadline = setTimeout(() => {
      options.logger.error({ timeoutMs: options.timeoutMs }, 'stop overran its deadline; exiting');
      process.exit(1);
    }, options.timeoutMs);
    deadline.unref();
    stop().then(
      () => {
        options.logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        options.logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
