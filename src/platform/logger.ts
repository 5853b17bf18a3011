/**
 * Structured JSON logs (pino); pretty-printed when stdout is a terminal. Request logs are at
 * debug level: a line per request would cost a third of a fast service's throughput.
 */
import { type Logger, pino } from 'pino';

import type { LogLevel } from './log-levels.js';

export { type LogLevel, logLevels } from './log-levels.js';
export type { Logger } from 'pino';

export interface LoggerOptions {
  level: LogLevel;
  /** Pretty, human-readable lines instead of JSON; defaults to "stdout is a terminal". */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY;
  return pino({
    level: options.level,
    base: { pid: process.pid },
    ...(pretty && {
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    }),
  });
}
