/**
 * How the drain benchmarks time a consumer: they poll the consumer group's own bookkeeping
 * (acked = entries-read - pending, from XINFO GROUPS) until every pre-filled entry is acked.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { Redis } from 'ioredis';

import { progress } from './benchmark.js';

const pollMs = 20;
/** The consumer counts as stalled when nothing is acked for this long. */
const stallMs = 30_000;

export interface DrainWatch {
  /** Redis key of the stream, prefix included. */
  stream: string;
  group: string;
  /** Entries pre-filled: the watch ends when this many are acked. */
  entries: number;
  /** Who drains, for the progress lines ("worker", "subscriber"). */
  consumer: string;
}

/**
 * The clock starts at the first acked batch, so process start-up and migrations are not
 * counted; the rate is over the entries acked after that moment.
 */
export async function watchAcks(redis: Redis, watch: DrainWatch) {
  const { stream, group, entries, consumer } = watch;
  let first: { at: number; acked: number } | undefined;
  let acked = 0;
  let lastChange = performance.now();
  let lastReport = performance.now();
  for (;;) {
    const now = performance.now();
    const current = await ackedEntries(redis, stream, group);
    if (current > acked) {
      acked = current;
      lastChange = now;
      first ??= { at: now, acked };
    }
    if (acked >= entries || now - lastChange > stallMs) break;
    if (now - lastReport > 5_000) {
      progress(
        `${consumer}: ${acked.toLocaleString('en-US')} of ${entries.toLocaleString('en-US')} acked`,
      );
      lastReport = now;
    }
    await sleep(pollMs);
  }
  if (acked < entries) progress(`${consumer} stalled at ${acked} of ${entries} acked`);
  const seconds = first === undefined ? 0 : (lastChange - first.at) / 1000;
  const rate = first === undefined || seconds === 0 ? 0 : (acked - first.acked) / seconds;
  return { acked, seconds, rate };
}

async function ackedEntries(redis: Redis, stream: string, group: string): Promise<number> {
  let groups: unknown;
  try {
    groups = await redis.call('XINFO', 'GROUPS', stream);
  } catch {
    return 0;
  }
  for (const entry of groups as unknown[][]) {
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < entry.length; i += 2) info.set(String(entry[i]), entry[i + 1]);
    if (info.get('name') === group) {
      return Number(info.get('entries-read') ?? 0) - Number(info.get('pending') ?? 0);
    }
  }
  return 0;
}
