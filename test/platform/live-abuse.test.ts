/**
 * A live stream (SSE) under abuse, while a normal browser keeps its updates: a client that never
 * reads is dropped once its buffer stays full, clients past the cap are told to retry, and every
 * stream ends at its lifetime (EventSource reconnects by itself).
 */
import { connect } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { Readiness } from '../../src/platform/health.js';
import { defaultHttpLimits } from '../../src/platform/http/limits.js';
import { LiveStream } from '../../src/platform/http/live-stream.js';
import { createHttpServer, type HttpServer, listen } from '../../src/platform/http/server.js';
import { createLogger } from '../../src/platform/logger.js';
import { createMetricsRegistry } from '../../src/platform/metrics.js';
import { waitFor } from '../support/processes.js';

const logger = createLogger({ level: 'silent' });
let version = 0;
/** A big snapshot that changes on every read, so every refresh writes it to every client. */
const read = () => Promise.resolve({ version: ++version, padding: 'x'.repeat(256 * 1024) });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(limits: { liveMaxClients: number; liveMaxStreamMs: number }) {
  const live = new LiveStream({ event: 'snapshot', read, logger, refreshMs: 60_000, limits });
  const app: HttpServer = await createHttpServer({
    name: 'live',
    version: '0',
    logger,
    metrics: createMetricsRegistry('live'),
    readiness: new Readiness(),
    httpLimits: defaultHttpLimits,
  });
  app.get('/stream', (_request, reply) => {
    reply.hijack();
    live.add(reply.raw);
  });
  const url = new URL('/stream', await listen(app, '127.0.0.1', 0));
  cleanups.push(
    () => app.close(),
    () => live.close(),
  );
  return { live, url };
}

/** A browser that reads: counts the events it has received. */
function reader(url: URL) {
  const controller = new AbortController();
  cleanups.push(() => {
    controller.abort();
  });
  const state = { events: 0, text: '', ended: false };
  void fetch(url, { signal: controller.signal })
    .then(async (response) => {
      const decoder = new TextDecoder();
      for await (const chunk of response.body ?? []) {
        const text = decoder.decode(chunk as Uint8Array, { stream: true });
        state.events += text.split('event: snapshot').length - 1;
        if (state.text.length < 1_000) state.text += text;
      }
      state.ended = true;
    })
    .catch(() => {
      state.ended = true;
    });
  return state;
}

describe('a live stream under abuse', () => {
  it('drops a client that never reads and keeps serving one that does', async () => {
    const { live, url } = await serve({ liveMaxClients: 10, liveMaxStreamMs: 600_000 });
    const stalled = connect({ host: url.hostname, port: Number(url.port) });
    cleanups.push(() => {
      stalled.destroy();
    });
    stalled.pause();
    stalled.on('error', () => undefined);
    stalled.write(`GET /stream HTTP/1.1\r\nhost: x\r\n\r\n`);
    const browser = reader(url);
    await waitFor(() => live.clientCount === 2 && browser.events > 0);

    // Changes keep coming, each once the reading browser has the last one; the stalled
    // client's buffer fills and stays full.
    const run = { changing: true };
    cleanups.push(() => {
      run.changing = false;
    });
    void (async () => {
      while (run.changing && live.clientCount > 1) {
        const seen = browser.events;
        live.refresh();
        await waitFor(() => browser.events > seen || !run.changing, { timeoutMs: 20_000 });
      }
    })();
    await waitFor(() => live.clientCount === 1, {
      timeoutMs: 20_000,
      message: 'the client that never reads to be dropped',
    });
    // The reader is still served: a change after the drop reaches it.
    run.changing = false;
    const seen = browser.events;
    live.refresh();
    await waitFor(() => browser.events > seen, {
      message: 'the reading client to get more events',
    });
    expect(browser.ended).toBe(false);
  });

  it('tells a client past the cap to retry, and ends every stream at its lifetime', async () => {
    const { live, url } = await serve({ liveMaxClients: 2, liveMaxStreamMs: 1_000 });
    const first = reader(url);
    const second = reader(url);
    await waitFor(() => live.clientCount === 2 && first.events > 0 && second.events > 0);
    const third = reader(url);
    await waitFor(() => third.ended, { message: 'the third stream to be ended at once' });
    expect(third.text).toContain('retry: 5000');
    expect(third.events).toBe(0);

    await waitFor(() => first.ended && second.ended, { message: 'the streams to end at 1 s' });
    expect(live.clientCount).toBe(0);
    // A new stream (what EventSource opens next) is served again.
    const again = reader(url);
    await waitFor(() => again.events > 0, { message: 'a reconnecting client to be served' });
  });
});
