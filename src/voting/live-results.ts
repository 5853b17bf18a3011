/**
 * Server-sent events for the result page: every connected browser gets the results when they
 * change. A change is noticed from the worker's notification (at once) or a one-second
 * refresh (the fallback, should a notification be missed); bursts collapse into one read.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../platform/logger.js';
import type { Results } from './results.js';

const refreshMs = 1_000;
const keepAliveEvery = 15; // refreshes, so a comment line every 15 s keeps proxies from closing

export class LiveResults {
  readonly #clients = new Set<ServerResponse>();
  readonly #read: () => Promise<Results>;
  readonly #logger: Logger;
  readonly #timer: NodeJS.Timeout;
  #lastSent: string | undefined;
  #reading: Promise<void> | undefined;
  #dirty = false;
  #ticks = 0;

  constructor(read: () => Promise<Results>, logger: Logger) {
    this.#read = read;
    this.#logger = logger;
    this.#timer = setInterval(() => {
      this.#ticks += 1;
      if (this.#ticks % keepAliveEvery === 0) this.#sendAll(': keep-alive\n\n');
      if (this.#clients.size > 0) this.refresh();
    }, refreshMs);
    this.#timer.unref();
  }

  /** Starts streaming to one browser: the current results first, then every change. */
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
      (results) => response.write(eventOf(results)),
      () => response.write(': waiting for the database\n\n'),
    );
  }

  /** Reads the results and sends them if they changed; calls during a read coalesce. */
  refresh(): void {
    if (this.#reading !== undefined) {
      this.#dirty = true;
      return;
    }
    this.#reading = this.#read()
      .then((results) => {
        const event = eventOf(results);
        if (event === this.#lastSent) return;
        this.#lastSent = event;
        this.#sendAll(event);
      })
      .catch((error: unknown) => {
        this.#logger.debug({ err: error }, 'results refresh failed; the next one retries');
      })
      .finally(() => {
        this.#reading = undefined;
        if (this.#dirty) {
          this.#dirty = false;
          this.refresh();
        }
      });
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  close(): void {
    clearInterval(this.#timer);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }

  #sendAll(chunk: string): void {
    for (const client of this.#clients) client.write(chunk);
  }
}

function eventOf(results: Results): string {
  return `event: results\ndata: ${JSON.stringify(results)}\n\n`;
}
