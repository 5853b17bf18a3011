/**
 * The Fastify server every HTTP service uses: schema validation (unknown fields refused),
 * JSON errors, a body limit, 404s, and the `/healthz`, `/readyz` and `/metrics` endpoints.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import type { Registry } from 'prom-client';
import type { Readiness } from '../health.js';
import type { Logger } from '../logger.js';
import { toErrorReply } from './error-reply.js';
import { recordRequestMetrics } from './request-metrics.js';

/** What the server needs of its service; a ServiceContext has all of it. */
export interface HttpServerOptions {
  name: string;
  version: string;
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
}

export interface HttpServerLimits {
  /** Largest request body accepted, in bytes; larger ones get 413. */
  bodyLimit?: number;
}

const defaultBodyLimit = 64 * 1024;

export function createHttpServer(service: HttpServerOptions, limits: HttpServerLimits = {}) {
  const { version, logger, metrics, readiness } = service;
  const base = Fastify({
    loggerInstance: logger,
    // A log line per request costs about a third of a fast service's throughput: debug only.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyLimit ?? defaultBodyLimit,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  const { recordUnmatched } = recordRequestMetrics(base, metrics, logger);
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorReply(error);
    if (status >= 500 && status !== 503) {
      request.log.error({ err: error, url: request.url }, 'request failed');
    } else {
      request.log.debug({ err: error, url: request.url, status }, 'request refused');
    }
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    reply.raw.once('finish', () => {
      recordUnmatched(request, reply);
    });
    return reply.status(404).send({
      error: { code: 'not_found', message: `No route for ${request.method} ${request.url}` },
    });
  });

  app.get('/healthz', () => ({ status: 'alive', service: service.name, version }));

  app.get('/readyz', async (_request, reply) => {
    const report = await readiness.report();
    return reply.status(report.ready ? 200 : 503).send({
      status: report.ready ? 'ready' : 'waiting',
      service: service.name,
      version,
      checks: report.checks,
    });
  });

  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );

  return app;
}

export type HttpServer = ReturnType<typeof createHttpServer>;

/** Starts listening and returns the URL clients use (with the real port when 0 was asked). */
export async function listen(app: HttpServer, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  const boundPort = address !== null && typeof address === 'object' ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${boundPort}`;
}
