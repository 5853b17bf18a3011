/**
 * Per-route request count and latency histogram for `/metrics`, recorded on every response.
 * Label children are cached per route and status so the hot path does one map lookup.
 */
import type {
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';

type Observe = (seconds: number) => void;

export function recordRequestMetrics(
  app: FastifyInstance<
    RawServerDefault,
    RawRequestDefaultExpression,
    RawReplyDefaultExpression,
    Logger
  >,
  registry: Registry,
  logger: Logger,
) {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const observers = new Map<string, Observe>();

  function observerFor(method: string, route: string, status: number): Observe {
    const key = `${method} ${route} ${status}`;
    let observe = observers.get(key);
    if (observe === undefined) {
      const count = requests.labels(method, route, String(status));
      const time = duration.labels(method, route);
      observe = (seconds) => {
        count.inc();
        time.observe(seconds);
      };
      observers.set(key, observe);
    }
    return observe;
  }

  const debug = logger.isLevelEnabled('debug');
  app.addHook('onResponse', (request, reply, done) => {
    // Unmatched URLs share one label so a scan of random paths cannot grow the metric without bound.
    const route = request.routeOptions.url ?? 'unmatched';
    observerFor(request.method, route, reply.statusCode)(reply.elapsedTime / 1000);
    if (debug) {
      request.log.debug(
        {
          method: request.method,
          url: request.url,
          status: reply.statusCode,
          ms: reply.elapsedTime,
        },
        'request',
      );
    }
    done();
  });
}
