/**
 * The console's HTTP server: the page (`dist/web/console`), the snapshot as JSON and as SSE,
 * each process's last log lines, and the actions, which need the token the console printed.
 */

import { Type } from '@fastify/type-provider-typebox';

import { AgoraError, NotFoundError, UsageError, ValidationError } from '../platform/errors.js';
import { Readiness } from '../platform/health.js';
import { builtPageDir, serveBuiltPage } from '../platform/http/built-page.js';
import { LiveStream } from '../platform/http/live-stream.js';
import { createHttpServer, type HttpServer } from '../platform/http/server.js';
import type { Logger } from '../platform/logger.js';
import { createMetricsRegistry } from '../platform/metrics.js';
import { version } from '../platform/version.js';
import type { LoadRuns } from './load-runs.js';
import type { KillSignal, ProcessSource } from './processes.js';
import { addPrometheusSdRoute, registerQueueMetrics } from './prometheus-sd.js';
import { type Action, ActionRefused, notFoundRefusals, type Refusal } from './refusals.js';
import type { Snapshot } from './snapshot.js';
import { bearerOf, tokenMatches } from './token.js';

export interface ConsoleServerOptions {
  source: ProcessSource;
  loads: LoadRuns;
  token: string;
  logger: Logger;
  refreshMs: number;
  snapshot(): Snapshot;
  /** Where the built page is; default dist/web/console. */
  pageDir?: string;
}

/** An error body with the reason as data beside it, for the page to say in its language. */
const withRefusal = (refusal: Refusal) => ({ details: { refusal } });

class Unauthorized extends AgoraError {
  constructor() {
    super(
      'unauthorized',
      401,
      'Actions need the token `agora up` printed: send it as Authorization: Bearer <token>.',
      withRefusal({ code: 'unauthorized' }),
    );
  }
}

class NeedsDistributed extends AgoraError {
  constructor(what: string, action: Action) {
    super(
      'needs_distributed',
      409,
      `${what} needs \`agora up --distributed\`, where the supervisor owns one process per replica.`,
      withRefusal({ code: 'needs-distributed', action }),
    );
  }
}

class NeedsFaultProxy extends AgoraError {
  constructor() {
    super(
      'invalid_request',
      400,
      'Backend faults need the fault proxy: start with `agora up --distributed --faults`.',
      withRefusal({ code: 'needs-fault-proxy' }),
    );
  }
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Agora console not built</title></head>
<body><h1>The console page is not built</h1>
<p>Run <code>npm run build</code> (it builds the page into <code>dist/web/console</code>), then
reload. The JSON under <code>/api/snapshot</code> and <code>/api/stream</code> works without it.</p></body></html>`;

export async function createConsoleServer(options: ConsoleServerOptions): Promise<HttpServer> {
  const { source, loads, token } = options;
  const metrics = createMetricsRegistry('console');
  registerQueueMetrics(metrics, () => options.snapshot().queues);
  const app = await createHttpServer(
    {
      name: 'console',
      version,
      logger: options.logger,
      metrics,
      readiness: new Readiness(),
    },
    { title: 'Agora console', description: 'Topology, figures, queues, timeline and actions.' },
  );
  const live = new LiveStream({
    event: 'snapshot',
    read: () => Promise.resolve(options.snapshot()),
    logger: options.logger,
    refreshMs: options.refreshMs,
  });
  app.addHook('onClose', () => live.close());

  const requireToken = (authorization: string | undefined) => {
    if (!tokenMatches(token, bearerOf(authorization))) throw new Unauthorized();
  };
  const actionsOf = (what: string, action: Action) => {
    if (source.actions === undefined) throw new NeedsDistributed(what, action);
    return source.actions;
  };
  /** The supervisor's refusals are the caller's to fix: a 400 (or 404) with its reason. */
  const act = async <T>(work: () => Promise<T> | T): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ActionRefused) {
        const status = notFoundRefusals.includes(error.refusal.code) ? 404 : 400;
        throw new AgoraError(
          status === 404 ? 'not_found' : 'invalid_request',
          status,
          error.message,
          withRefusal(error.refusal),
        );
      }
      if (error instanceof UsageError) {
        throw /^no (process|service|load)/.test(error.message)
          ? new NotFoundError(error.message)
          : new ValidationError(error.message);
      }
      throw error;
    }
  };
  const auth = { headers: Type.Object({ authorization: Type.Optional(Type.String()) }) };
  const tags = ['console'];

  app.get('/api/snapshot', { schema: { tags, summary: 'Everything the console shows, now' } }, () =>
    options.snapshot(),
  );

  app.get(
    '/api/stream',
    {
      schema: {
        tags,
        summary: 'Server-sent events: `snapshot`, as /api/snapshot, each interval',
        produces: ['text/event-stream'],
      },
    },
    (_request, reply) => {
      reply.hijack();
      live.add(reply.raw);
    },
  );

  addPrometheusSdRoute(app, source);

  app.get(
    '/api/processes/:label/logs',
    {
      schema: {
        tags,
        summary: "A process's last log lines (distributed mode keeps 200 per process)",
        params: Type.Object({ label: Type.String({ maxLength: 100 }) }),
      },
    },
    (request) => {
      const lines = source.logs(request.params.label);
      if (lines === undefined) {
        if (source.mode === 'embedded') throw new NeedsDistributed('A log per process', 'logs');
        throw new NotFoundError(`no process labelled "${request.params.label}"`);
      }
      return { process: request.params.label, lines };
    },
  );

  app.post(
    '/api/processes/:label/kill',
    {
      schema: {
        tags,
        summary: 'SIGKILL (default) or ?signal=SIGTERM (a graceful stop) to one process',
        ...auth,
        params: Type.Object({ label: Type.String({ maxLength: 100 }) }),
        querystring: Type.Object(
          {
            signal: Type.Optional(Type.Union([Type.Literal('SIGKILL'), Type.Literal('SIGTERM')])),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      requireToken(request.headers.authorization);
      const actions = actionsOf('Killing a process', 'kill');
      const signal: KillSignal = request.query.signal ?? 'SIGKILL';
      await act(() => actions.kill(request.params.label, signal));
      return { process: request.params.label, signal };
    },
  );

  app.post(
    '/api/processes/:label/restart',
    {
      schema: {
        tags,
        summary: 'Stops a process if it runs, then starts it again on its port',
        ...auth,
        params: Type.Object({ label: Type.String({ maxLength: 100 }) }),
      },
    },
    async (request) => {
      requireToken(request.headers.authorization);
      const actions = actionsOf('Restarting a process', 'restart');
      await act(() => actions.restart(request.params.label));
      return { process: request.params.label, restarted: true };
    },
  );

  app.post(
    '/api/services/:service/scale',
    {
      schema: {
        tags,
        summary: 'Adds (delta 1) or removes (delta -1) one replica of a service',
        ...auth,
        params: Type.Object({ service: Type.String({ maxLength: 100 }) }),
        body: Type.Object(
          { delta: Type.Union([Type.Literal(1), Type.Literal(-1)]) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      requireToken(request.headers.authorization);
      const actions = actionsOf('Scaling a service', 'scale');
      const label = await act(() => actions.scale(request.params.service, request.body.delta));
      return { service: request.params.service, process: label, delta: request.body.delta };
    },
  );

  app.post(
    '/api/faults',
    {
      schema: {
        tags,
        summary: 'Cuts a service off from a backend, or slows its traffic, for N seconds',
        ...auth,
        body: Type.Object(
          {
            service: Type.String({ maxLength: 100 }),
            backend: Type.Union([Type.Literal('broker'), Type.Literal('sql')]),
            kind: Type.Union([
              Type.Literal('cut'),
              Type.Literal('partition'),
              Type.Literal('latency'),
            ]),
            seconds: Type.Integer({ minimum: 1, maximum: 3_600 }),
            latencyMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      requireToken(request.headers.authorization);
      const actions = actionsOf('A backend fault', 'fault');
      const { fault } = actions;
      if (fault === undefined) throw new NeedsFaultProxy();
      await act(() => fault(request.body));
      return request.body;
    },
  );

  app.post(
    '/api/loads',
    {
      schema: {
        tags,
        summary: 'Runs `agora load <system>`; its verification shows in /api/snapshot loads',
        ...auth,
        body: Type.Object(
          {
            system: Type.String({ maxLength: 40 }),
            rate: Type.Number({ exclusiveMinimum: 0, maximum: 100_000 }),
            durationSeconds: Type.Integer({ minimum: 1, maximum: 3_600 }),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      requireToken(request.headers.authorization);
      const run = await act(() => loads.start(request.body));
      return reply.status(202).send(run);
    },
  );

  app.post(
    '/api/loads/:id/stop',
    {
      schema: {
        tags,
        summary: 'Interrupts a load run; it still verifies what it had acknowledged',
        ...auth,
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      },
    },
    async (request) => {
      requireToken(request.headers.authorization);
      await act(() => {
        loads.stop(request.params.id);
      });
      return { id: request.params.id, stopping: true };
    },
  );

  await serveBuiltPage(app, options.pageDir ?? builtPageDir('console'), notBuiltPage);
  return app;
}
