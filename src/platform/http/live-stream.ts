/**
 * Server-sent events for live pages (the result page, the election dashboard): every connected
 * browser gets a snapshot when it changes. A change is noticed from a notification (`notify`,
 * at most once per `minIntervalMs`) or from a periodic refresh (the fallback, should a
 * notification be missed); reads during a read coalesce into one, and an unchanged snapshot is
 * not sent again. A comment line now and then keeps proxies from closing an idle stream.
 * Bounded: at most `maxClients` browsers, each stream ended after `maxStreamMs` (EventSource
 * reconnects by itself), and a browser whose buffer is still full at the next write is dropped.
 */
import type { ServerResponse } from 'node:http';

import { retryWithBackoff } from '../backoff.js';
import type { Broker, Unsubscribe } from '../broker/broker.js';
import type { Logger } from '../logger.js';

export interface LiveStreamOptions<T> {
  /** The event name browsers listen for ("results", "summary"). */
  event: string;
  read(): Promise<T>;
  logger: Logger;
  /** Least time between two reads caused by notifications; default 0 (at once). */
  minIntervalMs?: number;
  /** The fallback refresh while anyone listens; default 1 s. */
  refreshMs?: number;
  /** The platform's AGORA_LIVE_* limits (a ServiceContext's `httpLimits` has them). */
  limits?: { liveMaxClients: number; liveMaxStreamMs: number };
}

const keepAliveMs = 15_000;
/** What the browser's EventSource waits before it reconnects after the stream drops. */
const retryMs = 1_000;
/** What a browser turned away because the stream is full waits before it tries again. */
const fullRetryMs = 5_000;

const defaultLimits = { liveMaxClients: 1_000, liveMaxStreamMs: 600_000 };

export class LiveStream<T> {
  readonly #clients = new Set<ServerResponse>();
  readonly #options: LiveStreamOptions<T>;
  readonly #minIntervalMs: number;
  readonly #timers: NodeJS.Timeout[];
  #throttle: NodeJS.Timeout | undefined;
  #lastReadAt = 0;
  #lastSent: string | undefined;
  #reading: Promise<void> | undefined;
  #dirty = false;
  #subscribed: Promise<Unsubscribe | undefined> | undefined;

  constructor(options: LiveStreamOptions<T>) {
    this.#options = options;
    this.#minIntervalMs = options.minIntervalMs ?? 0;
    this.#timers = [
      setInterval(() => {
        if (this.#clients.size > 0) this.refresh();
      }, options.refreshMs ?? 1_000),
      setInterval(() => {
        this.#sendAll(': keep-alive\n\n');
      }, keepAliveMs),
    ];
    for (const timer of this.#timers) timer.unref();
  }

  /**
   * Starts streaming to one browser: the current snapshot first, then every change. When the
   * stream is full it answers an event stream that only says when to retry and ends: a 503
   * would make EventSource give up for good.
   */
  add(response: ServerResponse): void {
    const limits = this.#options.limits ?? defaultLimits;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    if (this.#clients.size >= limits.liveMaxClients) {
      response.end(`retry: ${fullRetryMs}\n: too many live clients; retry shortly\n\n`);
      return;
    }
    response.write(`retry: ${retryMs}\n\n`);
    this.#clients.add(response);
    const lifetime = setTimeout(() => response.end(), limits.liveMaxStreamMs);
    lifetime.unref();
    response.on('close', () => {
      clearTimeout(lifetime);
      this.#clients.delete(response);
    });
    this.#options.read().then(
      (snapshot) => {
        const event = this.#eventOf(snapshot);
        this.#lastSent ??= event;
        if (!response.writableEnded) response.write(event);
      },
      () => {
        if (!response.writableEnded) response.write(': waiting for the database\n\n');
      },
    );
  }

  /**
   * Refreshes on every notification of `channel`; subscribing is retried with backoff while
   * the broker is away. The notification only says "changed": reading again keeps the order of
   * updates right whatever order notifications arrive in.
   */
  follow(broker: Broker, channel: string, signal: AbortSignal): void {
    this.#subscribed = retryWithBackoff(
      () =>
        broker.subscribe(channel, () => {
          this.notify();
        }),
      { signal },
    ).catch(() => undefined);
  }

  /** Something changed: refresh soon, but no more often than the minimum interval. */
  notify(): void {
    if (this.#throttle !== undefined || this.#clients.size === 0) return;
    const wait = Math.max(0, this.#lastReadAt + this.#minIntervalMs - Date.now());
    if (wait === 0) {
      this.refresh();
      return;
    }
    this.#throttle = setTimeout(() => {
      this.#throttle = undefined;
      this.refresh();
    }, wait);
  }

  /** Reads the snapshot and sends it if it changed; calls during a read coalesce into one. */
  refresh(): void {
    if (this.#reading !== undefined) {
      this.#dirty = true;
      return;
    }
    this.#lastReadAt = Date.now();
    this.#reading = this.#options
      .read()
      .then((snapshot) => {
        const event = this.#eventOf(snapshot);
        if (event === this.#lastSent) return;
        this.#lastSent = event;
        this.#sendAll(event);
      })
      .catch((error: unknown) => {
        this.#options.logger.debug({ err: error }, 'live refresh failed; the next one retries');
      })
      .finally(() => {
        this.#reading = undefined;
        if (this.#dirty) {
          this.#dirty = false;
          this.notify();
        }
      });
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  /** Ends every stream (browsers reconnect elsewhere) and unsubscribes. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    clearTimeout(this.#throttle);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    const unsubscribe = await this.#subscribed;
    await unsubscribe?.();
  }

  #eventOf(snapshot: T): string {
    return `event: ${this.#options.event}\ndata: ${JSON.stringify(snapshot)}\n\n`;
  }

  #sendAll(chunk: string): void {
    for (const client of this.#clients) {
      // Still full since the last write: the browser does not read. Drop it rather than queue.
      if (client.writableNeedDrain) {
        this.#clients.delete(client);
        client.destroy();
        continue;
      }
      client.write(chunk);
    }
  }
}
