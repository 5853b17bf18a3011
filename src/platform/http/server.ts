/**
 * The Fastify server every HTTP service uses: schema validation (unknown fields refused),
 * JSON errors, a body limit, 404s, the `/healthz`, `/readyz` and `/metrics` endpoints (`/metrics`
 * only where the service has no admin port, or on the admin port itself), and the OpenAPI
 * document of its routes (`/docs/json`, browsable at `/docs`).
 */
import type { Socket } from 'node:net';

// Only the provider's type: its module also loads TypeBox's compiler, which Fastify does not use
// (Ajv validates), and that would double a service's start-up time.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyServerOptions, LogController } from 'fastify';
import type { Registry } from 'prom-client';

import { connectionCounter } from '../connection-cap.js';
import { type Readiness, summarize } from '../health.js';
import type { Logger } from '../logger.js';
import { addDocs } from './docs.js';
import { drain } from './drain.js';
import { toErrorReply } from './error-reply.js';
import { defaultHttpLimits, type HttpLimits } from './limits.js';
import { recordRequestMetrics } from './request-metrics.js';
import { addSecurityHeaders } from './security-headers.js';
import { createValidatorCompiler } from './validator.js';

/** What the server needs of its service; a ServiceContext has all of it. */
export interface HttpServerOptions {
  name: string;
  version: string;
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
  /**
   * Set when the service has an admin port (a ServiceContext's `adminPort`): that port serves
   * /metrics, so this server does not, unless `metrics` says otherwise.
   */
  adminPort?: number | undefined;
  /** Timeouts and connection caps (the platform's AGORA_HTTP_* settings); default: their defaults. */
  httpLimits?: HttpLimits;
}

export interface HttpServerLimits {
  /** Largest request body accepted, in bytes; larger ones get 413. */
  bodyLimit?: number;
  /**
   * What `/readyz` says of a waiting check: `summary` (default, for public ports) only
   * "waiting"; `full` (admin ports) the reason, which may name internal hosts.
   */
  readinessDetail?: 'summary' | 'full';
  /**
   * Whether to serve `/metrics`. Default: only without an admin port (`adminPort` unset), so a
   * public port never shows the figures; the admin listener itself passes true.
   */
  metrics?: boolean;
  /** The OpenAPI document's title and description; default: the service's name. */
  title?: string;
  description?: string;
}

const defaultBodyLimit = 64 * 1024;

/**
 * Fastify's type for its compiler factories is @fastify/ajv-compiler's, whose compilers return
 * Ajv's own ValidateFunction; Fastify calls the one given here as it calls any compiler of
 * setValidatorCompiler (which stores it exactly so, schema-controller.js).
 */
type Compilers = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

/**
 * Builds the server. Routes are added after it resolves: the OpenAPI document sees those added
 * from then on. Bodies are validated as sent, never coerced (`validator.ts`).
 */
export function createHttpServer(service: HttpServerOptions, limits: HttpServerLimits = {}) {
  const { version, logger, metrics, readiness } = service;
  const timeouts = service.httpLimits ?? defaultHttpLimits;
  const requestTimeout = timeouts.requestTimeoutMs;
  const headersTimeout = Math.min(timeouts.headersTimeoutMs, requestTimeout);
  const validatorCompiler = createValidatorCompiler();
  const base = Fastify({
    loggerInstance: logger,
    // Given here rather than by setValidatorCompiler, which would replace Fastify's default
    // compiler only after Fastify had loaded it (@fastify/ajv-compiler, with Ajv's JTD and
    // standalone parts: 27 modules a counter never uses).
    schemaController: {
      compilersFactory: { buildValidator: () => validatorCompiler } as unknown as Compilers,
    },
    // A log line per request costs about a third of a fast service's throughput: debug only.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyLimit ?? defaultBodyLimit,
    // A graceful stop serves what still arrives on a kept-alive connection (Fastify's default is
    // a 503 for it) while it drains (the preClose hook below): a client of a rolling update,
    // whose pooled connection reaches this replica, gets its answer.
    return503OnClosing: false,
    // A client trickling its body a byte at a time is cut at requestTimeout (408), however
    // active it looks; an idle connection at connectionTimeout. Node checks the first two only
    // every connectionsCheckingInterval, so that follows the shorter timeout.
    requestTimeout,
    connectionTimeout: timeouts.idleTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    http: {
      requestTimeout,
      headersTimeout,
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(headersTimeout / 4))),
    },
  });
  const connections = connectionCounter({
    max: timeouts.maxConnections,
    perAddress: timeouts.maxConnectionsPerAddress,
  });
  base.server.on('connection', (socket: Socket) => {
    const refused = connections.admit(socket);
    if (refused === undefined) return;
    logger.debug({ address: socket.remoteAddress, refused }, 'HTTP connection refused');
    socket.destroy();
  });
  // A stop answers what still arrives, each answer closing its connection, before it closes
  // the server and its idle connections (drain.ts): no client meets a reset for a request it
  // sent just as the connection closed.
  base.addHook('preClose', () => drain(base.server, () => connections.open(), timeouts.drainMs));
  const { recordUnmatched } = recordRequestMetrics(base, metrics, logger);
  addSecurityHeaders(base);
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  addDocs(base, {
    title: limits.title ?? `Agora ${service.name}`,
    version,
    ...(limits.description === undefined ? {} : { description: limits.description }),
  });

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

  const monitoring = { tags: ['monitoring'] };
  app.get(
    '/healthz',
    { schema: { ...monitoring, summary: 'The process is alive', response: { 200: healthBody } } },
    () => ({ status: 'alive' as const, service: service.name, version }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        ...monitoring,
        summary: 'Its dependencies answer; otherwise 503 and what it waits for',
        response: { 200: readyBody, 503: readyBody },
      },
    },
    async (_request, reply) => {
      const full = await readiness.report();
      const report = limits.readinessDetail === 'full' ? full : summarize(full);
      return reply.status(report.ready ? 200 : 503).send({
        status: report.ready ? 'ready' : 'waiting',
        service: service.name,
        version,
        checks: report.checks,
      });
    },
  );

  // Unknown here, like any route: a 404 that scanning clients cannot tell from a missing page.
  if (limits.metrics ?? service.adminPort === undefined) {
    app.get(
      '/metrics',
      {
        schema: { ...monitoring, summary: 'Prometheus text exposition', produces: ['text/plain'] },
      },
      async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()),
    );
  }

  // Still a promise, as every caller awaits: the OpenAPI plugins were registered here, and a
  // plugin that must be may come back.
  return Promise.resolve(app);
}

export type HttpServer = Awaited<ReturnType<typeof createHttpServer>>;

/*
 * Plain JSON Schema, not TypeBox: these two are in every service, and TypeBox's 370 modules
 * cost the counter, which needs no other, 50 of its 710 ms of CPU to ready.
 */
const healthBody = {
  type: 'object',
  properties: {
    status: { type: 'string', const: 'alive' },
    service: { type: 'string' },
    version: { type: 'string' },
  },
  required: ['status', 'service', 'version'],
} as const;

const readyBody = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'waiting'] },
    service: { type: 'string' },
    version: { type: 'string' },
    checks: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'For each dependency: "ok", or why it is not ready yet.',
    },
  },
  required: ['status', 'service', 'version', 'checks'],
} as const;

/** Starts listening and returns the URL clients use (with the real port when 0 was asked). */
export async function listen(app: HttpServer, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  const boundPort = address !== null && typeof address === 'object' ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${boundPort}`;
}
