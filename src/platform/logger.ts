/**
 * Structured JSON logs (pino); on a terminal, one readable line per record ("service: message"
 * and its fields), written in order with the rest of the CLI's output. Request logs are at
 * debug level: a line per request would cost a third of a fast service's throughput.
 */
import { createRequire } from 'node:module';

import { type Logger, pino } from 'pino';
import type PinoPretty from 'pino-pretty';

import type { LogLevel } from './log-levels.js';

export { type LogLevel, logLevels } from './log-levels.js';
export type { Logger } from 'pino';

export interface LoggerOptions {
  level: LogLevel;
  /** Pretty, human-readable lines instead of JSON; defaults to "stdout is a terminal". */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { pid: process.pid } };
  if (!(options.pretty ?? process.stdout.isTTY)) return pino(base);
  // Loaded only for a terminal: a service in a container or under a supervisor writes JSON and
  // need not hold pino-pretty's thirty modules in memory. A synchronous stream, not a transport
  // thread: a record and the start-up table that follows it reach the terminal in order.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  const stream = pretty({
    sync: true,
    colorize: process.stdout.isTTY,
    singleLine: true,
    translateTime: 'HH:MM:ss',
    ignore: 'pid,hostname,service',
    messageFormat: (log, messageKey) => {
      const raw = log[messageKey];
      const message = typeof raw === 'string' ? raw : JSON.stringify(raw ?? '');
      return typeof log.service === 'string' ? `${log.service}: ${message}` : message;
    },
  });
  return pino(base, stream);
}
