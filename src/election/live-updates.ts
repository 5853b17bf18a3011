/**
 * Server-sent events for the dashboard: each browser gets the summary (totals, per-route
 * counts, ingest rate) whenever it changes. A change is noticed from the `election:stored`
 * notification, at most a few times a second however fast ballots arrive, or from a periodic
 * refresh (the fallback, should a notification be missed). The browser reloads its views on
 * each event, so only this small summary travels on the stream.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../platform/logger.js';
import type { Summary } from './api-schemas.js';

export interface LiveUpdatesOptions {
  /** Least time between two reads caused by notifications. */
  minIntervalMs?: number;
  /** The fallback refresh, also what moves the shown rate back to 0 when ingest stops. */
  refreshMs?: number;
}

const keepAliveMs = 15_000;

export class LiveUpdates {
  readonly #clients = new Set<ServerResponse>();
  readonly #read: () => Promise<Summary>;
  readonly #logger: Logger;
  readonly #minIntervalMs: number;
  readonly #timers: NodeJS.Timeout[];
  #throttle: NodeJS.Timeout | undefined;
  #lastReadAt = 0;
  #lastSent: string | undefined;
  #reading: Promise<void> | undefined;
  #dirty = false;

  constructor(read: () => Promise<Summary>, logger: Logger, options: LiveUpdatesOptions = {}) {
    this.#read = read;
    this.#logger = logger;
    this.#minIntervalMs = options.minIntervalMs ?? 250;
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

  /** Starts streaming to one browser: the current summary first, then every change. */
  add(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    response.write('retry: 1000\n\n');
    this.#clients.add(response);
    response.on('close', () => this.#clients.delete(response));
    this.#read().then(
      (summary) => {
        const event = eventOf(summary);
        this.#lastSent ??= event;
        if (!response.writableEnded) response.write(event);
      },
      () => {
        if (!response.writableEnded) response.write(': waiting for the database\n\n');
      },
    );
  }

  /** Ballots were stored: refresh soon, but no more often than the minimum interval. */
  notify(): void {
    if (this.#throttle !== undefined || this.#clients.size === 0) return;
    const wait = Math.max(0, this.#lastReadAt + this.#minIntervalMs - Date.now());
    this.#throttle = setTimeout(() => {
      this.#throttle = undefined;
      this.refresh();
    }, wait);
  }

  /** Reads the summary and sends it if it changed; calls during a read coalesce into one. */
  refresh(): void {
    if (this.#reading !== undefined) {
      this.#dirty = true;
      return;
    }
    this.#lastReadAt = Date.now();
    this.#reading = this.#read()
      .then((summary) => {
        const event = eventOf(summary);
        if (event === this.#lastSent) return;
        this.#lastSent = event;
        this.#sendAll(event);
      })
      .catch((error: unknown) => {
        this.#logger.debug({ err: error }, 'dashboard refresh failed; the next one retries');
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

  close(): void {
    for (const timer of this.#timers) clearInterval(timer);
    clearTimeout(this.#throttle);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }

  #sendAll(chunk: string): void {
    for (const client of this.#clients) client.write(chunk);
  }
}

function eventOf(summary: Summary): string {
  return `event: summary\ndata: ${JSON.stringify(summary)}\n\n`;
}
