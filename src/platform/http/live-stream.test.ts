import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { createLogger } from '../logger.js';
import { LiveStream } from './live-stream.js';

interface Summary {
  total: number;
  byRoute: Record<string, number>;
}

/** The part of a ServerResponse the stream uses, recording what was written. */
class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  writeHead(): this {
    return this;
  }
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(): void {
    this.emit('close');
  }
  events(): Summary[] {
    return this.chunks
      .filter((chunk) => chunk.startsWith('event: summary'))
      .map((chunk) => JSON.parse(chunk.split('data: ')[1] ?? '') as Summary);
  }
}

const logger = createLogger({ level: 'silent' });
const summaryOf = (total: number): Summary => ({ total, byRoute: { grpc: total, redis: 0 } });

describe('LiveStream', () => {
  let total = 0;
  let reads = 0;
  let live: LiveStream<Summary>;
  let client: FakeResponse;

  beforeEach(async () => {
    vi.useFakeTimers();
    total = 0;
    reads = 0;
    live = new LiveStream({
      event: 'summary',
      read: () => {
        reads += 1;
        return Promise.resolve(summaryOf(total));
      },
      logger,
      minIntervalMs: 250,
      refreshMs: 60_000,
    });
    client = new FakeResponse();
    live.add(client as unknown as ServerResponse);
    await vi.advanceTimersByTimeAsync(0);
  });

  afterEach(async () => {
    await live.close();
    vi.useRealTimers();
  });

  it('sends the current summary to a new client at once, after a reconnect hint', () => {
    expect(client.chunks[0]).toBe('retry: 1000\n\n');
    expect(client.events()).toEqual([summaryOf(0)]);
  });

  it('refreshes on its own while anyone listens, should a notification be missed', async () => {
    total = 7;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(client.events().at(-1)).toEqual(summaryOf(7));
  });

  it('collapses a burst of notifications into a few reads', async () => {
    const before = reads;
    for (let index = 1; index <= 1_000; index++) {
      total = index;
      live.notify();
      if (index % 100 === 0) await vi.advanceTimersByTimeAsync(100);
    }
    await vi.advanceTimersByTimeAsync(1_000);
    // 1 s of notifications at most every 250 ms, plus the one after the burst.
    expect(reads - before).toBeLessThanOrEqual(6);
    expect(client.events().at(-1)).toEqual(summaryOf(1_000));
  });

  it('sends nothing when the summary did not change', async () => {
    live.notify();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(client.events()).toHaveLength(1);
  });

  it('stops writing to a client that went away', async () => {
    client.emit('close');
    expect(live.clientCount).toBe(0);
    total = 5;
    live.refresh();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(client.events()).toHaveLength(1);
  });
});
