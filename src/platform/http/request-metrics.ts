/**
 * Per-route request latency for `/metrics`: one histogram by method, route and status, whose
 * `_count` is the request count. Measured hot-path costs shaped it (bench/counter): each route
 * gets its own hook with its URL bound once (Fastify's `request.routeOptions` builds an object
 * per access), and label children are cached so prom-client hashes labels once per combination.
 */
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import { Histogram, type Registry } from 'prom-client';

import type { Logger } from '../logger.js';

type Observe = (seconds: number) => void;
type Label = 'method' | 'route' | 'status_code';

const durationName = 'http_request_duration_seconds';

/** The route label of requests no route matched, so scans of random paths add one series. */
export const unmatchedRoute = 'unmatched';

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
  // A service's own port and its admin port record into one histogram of their shared registry.
  const duration =
    (registry.getSingleMetric(durationName) as Histogram<Label> | undefined) ??
    new Histogram({
      name: durationName,
      help: 'Time from request to response, by method, route and status code.',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  const debug = logger.isLevelEnabled('debug');

  /** Records one answered request of `route`; children are made once per method and status. */
  function recorderFor(route: string) {
    // Keyed by method then status code: no string is built per request.
    const observers = new Map<string, Map<number, Observe>>();
    return (request: FastifyRequest, reply: FastifyReply) => {
      let byStatus = observers.get(request.method);
      if (byStatus === undefined) {
        byStatus = new Map();
        observers.set(request.method, byStatus);
      }
      let observe = byStatus.get(reply.statusCode);
      if (observe === undefined) {
        const child = duration.labels(request.method, route, String(reply.statusCode));
        observe = (seconds) => {
          child.observe(seconds);
        };
        byStatus.set(reply.statusCode, observe);
      }
      observe(reply.elapsedTime / 1000);
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
    };
  }

  app.addHook('onRoute', (route) => {
    const record = recorderFor(route.url);
    const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      record(request, reply);
      done();
    };
    const existing = route.onResponse === undefined ? [] : [route.onResponse].flat();
    route.onResponse = [...existing, hook];
  });

  return { recordUnmatched: recorderFor(unmatchedRoute) };
}
