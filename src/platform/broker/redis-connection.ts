/**
 * Opens one ioredis connection for the Redis driver: timeouts, no offline queue, retry forever
 * with backoff, and a promise for the first connection attempt.
 */
import { Redis, type RedisOptions } from 'ioredis';

import { backoffDelay } from '../backoff.js';

/** Also bounds how long a command issued before the first connection waits for it. */
export const connectTimeoutMs = 2_000;
export const commandTimeoutMs = 2_000;

export interface Connection {
  redis: Redis;
  /** Settles when the first connection attempt succeeds or fails. */
  firstAttempt: Promise<void>;
}

/** `role` names the connection on the server (`agora-<role>`); `options` override the defaults. */
export function openConnection(url: string, role: string, options: RedisOptions): Connection {
  const redis = new Redis(url, {
    connectionName: `agora-${role}`,
    connectTimeout: connectTimeoutMs,
    enableOfflineQueue: false,
    // In-flight commands are rejected when the connection drops instead of being resent.
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => backoffDelay(attempt - 1, { initialMs: 100, maxMs: 2_000 }),
    ...options,
  });
  const firstAttempt = new Promise<void>((resolve) => {
    const settle = (): void => {
      clearTimeout(timer);
      redis.off('ready', settle).off('close', settle).off('end', settle);
      resolve();
    };
    const timer = setTimeout(settle, connectTimeoutMs + commandTimeoutMs);
    redis.on('ready', settle).on('close', settle).on('end', settle);
  });
  return { redis, firstAttempt };
}
