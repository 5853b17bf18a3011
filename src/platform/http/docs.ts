/**
 * A server's OpenAPI document (`/docs/json`, `/docs/yaml`) and its browsable UI (`/docs`),
 * built on the first request for them. @fastify/swagger and its UI load some 150 modules and
 * read the UI's files: 100 of the counter's 710 ms of CPU to ready (bench/platform/startup.ts),
 * and memory for as long as it ran, for pages most replicas never serve. So the server
 * records its routes as they are added, and the first request under `/docs` builds a second,
 * never-listening Fastify instance with the plugins and the same routes, which answers it and
 * every later one through `inject`.
 */
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteOptions,
} from 'fastify';

import type { Logger } from '../logger.js';

export interface DocsInfo {
  title: string;
  version: string;
  description?: string;
}

/** Where the UI is; the document is at `${docsPrefix}/json`. */
export const docsPrefix = '/docs';

/**
 * Headers of the inner answer that the outer reply sets itself (length, framing) or that
 * belong to the inner instance's connection.
 */
const ownHeaders = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'date',
]);

/** What the document needs of a route. */
type Recorded = Pick<RouteOptions, 'method' | 'url' | 'schema' | 'config' | 'constraints'>;

/** Adds `/docs` and `/docs/*`; call it before the routes to document are added. */
export function addDocs(
  app: FastifyInstance<
    RawServerDefault,
    RawRequestDefaultExpression,
    RawReplyDefaultExpression,
    Logger
  >,
  info: DocsInfo,
): void {
  const routes: Recorded[] = [];
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  let docs: Promise<FastifyInstance> | undefined;

  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    docs ??= buildDocs(routes, info).catch((error: unknown) => {
      docs = undefined; // the next request tries again
      throw error;
    });
    const answer = await (
      await docs
    ).inject({ method: 'GET', url: request.url, headers: request.headers });
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !ownHeaders.has(name)) void reply.header(name, value);
    }
    return reply.status(answer.statusCode).send(answer.rawPayload);
  };
  // A HEAD request gets the GET answer, whose body Fastify's HEAD route measures and drops.
  // Hidden like the UI's own routes: the document describes the service, not itself.
  const hidden = { schema: { hide: true } };
  app.get(docsPrefix, hidden, serve);
  app.get(`${docsPrefix}/*`, hidden, serve);
}

async function buildDocs(routes: readonly Recorded[], info: DocsInfo) {
  const [{ default: Fastify }, { default: swagger }, { default: swaggerUi }] = await Promise.all([
    import('fastify'),
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ]);
  const docs = Fastify();
  // The outer server validates and serialises; here the routes only describe themselves.
  docs.setValidatorCompiler(() => () => true);
  docs.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await docs.register(swagger, { openapi: { info } });
  await docs.register(swaggerUi, { routePrefix: docsPrefix });
  const unused = () => {
    throw new Error('a documented route is served by the outer server');
  };
  for (const route of routes) {
    if (route.url === docsPrefix || route.url.startsWith(`${docsPrefix}/`)) continue;
    docs.route({
      method: route.method,
      url: route.url,
      schema: route.schema,
      config: route.config,
      constraints: route.constraints,
      // Each HEAD route the outer server made was recorded too; swagger leaves them out.
      exposeHeadRoute: false,
      handler: unused,
    });
  }
  await docs.ready();
  return docs;
}
