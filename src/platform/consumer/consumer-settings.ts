/**
 * The settings every stream-consumer service has (batch size, loops, block and reclaim times),
 * under its own variable names. Apart from the consumer's code, so a definition that declares
 * them loads nothing else.
 */
import { settings } from '../config.js';

export interface ConsumerSettingsOptions {
  /** The variables' prefix: `VOTE` gives VOTE_BATCH_SIZE, VOTE_BLOCK_MS, ... */
  prefix: string;
  /** What one item is called in the settings' descriptions ("votes", "ballots"). */
  items: string;
  /** What one consumer is called ("worker", "subscriber"). */
  role: string;
  batchSize: number;
  /** Loops per process by default; with it, the `<prefix>_CONCURRENCY` setting exists. */
  concurrency?: number;
}

/** The settings every consumer service has, under its own variable names. */
export function consumerSettings(options: ConsumerSettingsOptions) {
  const { prefix, items, role } = options;
  return {
    batchSize: settings.integer(
      `${prefix}_BATCH_SIZE`,
      { min: 1, max: 10_000 },
      {
        default: options.batchSize,
        description: `Most ${items} a ${role} reads and commits in one transaction.`,
      },
    ),
    concurrency: settings.integer(
      `${prefix}_CONCURRENCY`,
      { min: 1, max: 8 },
      {
        default: options.concurrency ?? 1,
        description:
          `Batches one ${role} has in flight at once, each its own consumer in the group: one ` +
          'is read and parsed while another commits. At most 8, so the loops fit the Postgres ' +
          'pool (10 connections).',
      },
    ),
    blockMs: settings.integer(
      `${prefix}_BLOCK_MS`,
      { min: 10, max: 60_000 },
      {
        default: 1_000,
        description: `How long a ${role} waits on an empty stream per read.`,
      },
    ),
    reclaimIdleMs: settings.integer(
      `${prefix}_RECLAIM_IDLE_MS`,
      { min: 100, max: 3_600_000 },
      {
        default: 30_000,
        description: `After how long a pending entry is taken from a ${role} presumed dead.`,
      },
    ),
    stopTimeoutMs: settings.integer(
      `${prefix}_STOP_TIMEOUT_MS`,
      { min: 100, max: 600_000 },
      { default: 5_000, description: 'How long stopping waits for the batches in flight.' },
    ),
  };
}

export type ConsumerSettings = ReturnType<typeof consumerSettings>;
