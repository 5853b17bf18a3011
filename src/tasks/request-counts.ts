/**
 * Requests and errors per status code since this instance started, for `GET /status` (the
 * sequel seed's monitoring endpoint). Per instance: each replica counts what it answered.
 */
import type { HttpServer } from '../platform/http/server.js';

export class RequestCounts {
  readonly #byStatus = new Map<number, number>();

  /** Counts every answer of `app`, whatever route (or none) it came from. */
  attach(app: HttpServer): void {
    app.addHook('onResponse', (_request, reply, done) => {
      this.record(reply.statusCode);
      done();
    });
  }

  record(status: number): void {
    this.#byStatus.set(status, (this.#byStatus.get(status) ?? 0) + 1);
  }

  /** All answers, and the 4xx and 5xx among them, keyed by status code. */
  snapshot(): { requests: Record<string, number>; errors: Record<string, number> } {
    const sorted = [...this.#byStatus].sort(([a], [b]) => a - b);
    return {
      requests: Object.fromEntries(sorted.map(([status, count]) => [String(status), count])),
      errors: Object.fromEntries(
        sorted
          .filter(([status]) => status >= 400)
          .map(([status, count]) => [String(status), count]),
      ),
    };
  }
}
