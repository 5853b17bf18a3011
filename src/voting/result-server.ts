/**
 * The result service's server: the tally as a live page, an SSE stream and `GET /api/results`.
 */
import { Type } from 'typebox';

import { SqlUnavailableError, UnavailableError } from '../platform/errors.js';
import { addScript, addStylesheet } from '../platform/http/assets.js';
import { addFavicon } from '../platform/http/favicon.js';
import { chooseLanguage } from '../platform/http/language.js';
import { LiveStream } from '../platform/http/live-stream.js';
import { createHttpServer, listen } from '../platform/http/server.js';
import type { ContextOf, ServiceHandle } from '../platform/service.js';
import { labelsOf } from './labels.js';
import { layoutStyle, optionColors } from './page-layout.js';
import { pageHref } from './page-links.js';
import { talliesChannel } from './protocol.js';
import type { resultService } from './result.js';
import { renderResultPage, resultScript, resultStyle } from './result-page.js';
import { type Results, resultsOf } from './results.js';
import { selectTally } from './vote-store.js';

const resultsSchema = Type.Object({
  options: Type.Array(
    Type.Object({
      option: Type.Union([Type.Literal('a'), Type.Literal('b')]),
      label: Type.String(),
      votes: Type.Integer({ minimum: 0 }),
      percent: Type.Number({ minimum: 0, maximum: 100 }),
    }),
  ),
  total: Type.Integer({ minimum: 0 }),
  totalText: Type.String(),
});

export async function startResult(ctx: ContextOf<typeof resultService>): Promise<ServiceHandle> {
  const labels = labelsOf(ctx.config);

  async function currentResults(): Promise<Results> {
    try {
      return resultsOf(await selectTally(ctx.sql), labels);
    } catch (error) {
      // The schema gate's own 503 already says what it waits for.
      if (!(error instanceof SqlUnavailableError)) throw error;
      throw new UnavailableError(
        'database',
        'Results are unavailable: the database is not answering. They come back by themselves.',
        { cause: error },
      );
    }
  }

  const live = new LiveStream({
    event: 'results',
    read: currentResults,
    logger: ctx.logger,
    limits: ctx.httpLimits,
  });
  live.follow(ctx.broker, talliesChannel, ctx.signal);

  const app = await createHttpServer(ctx, {
    title: 'Agora voting results',
    description: 'The live tally of the vote service (seeds 000/001, part 4).',
  });
  addFavicon(app, { color: optionColors.b, glyph: 'R' });
  const stylesheet = addStylesheet(app, 'result', layoutStyle + resultStyle);
  const script = addScript(app, 'result', resultScript);

  app.get(
    '/',
    { schema: { summary: 'The live results page', produces: ['text/html'] } },
    async (request, reply) => {
      // Before the database answers the page still renders, at zero, and fills in live.
      const results = await currentResults().catch(() =>
        resultsOf({ counts: { a: 0, b: 0 }, total: 0 }, labels),
      );
      const { language, setCookie } = chooseLanguage(request.query, request.headers);
      if (setCookie !== undefined) reply.header('set-cookie', setCookie);
      const voteHref = pageHref(ctx.config.votePublicUrl, request, 8080);
      return reply
        .type('text/html; charset=utf-8')
        .send(renderResultPage({ results, language, voteHref, stylesheet, script }));
    },
  );

  app.get(
    '/api/results',
    { schema: { summary: "Each option's votes and share", response: { 200: resultsSchema } } },
    () => currentResults(),
  );

  // For `agora load voting`: which store the tally it reads comes from.
  app.get(
    '/api/verify/store',
    {
      schema: {
        summary: 'Which store the tally is read from (pg or pglite), for load verification',
        querystring: Type.Object({}, { additionalProperties: false }),
        response: {
          200: Type.Object({ store: Type.Union([Type.Literal('pg'), Type.Literal('pglite')]) }),
        },
      },
    },
    () => ({ store: ctx.sql.driver }),
  );

  app.get(
    '/api/stream',
    {
      schema: {
        summary: 'Server-sent events: `results` with the same body as /api/results on each change',
        produces: ['text/event-stream'],
      },
    },
    (_request, reply) => {
      reply.hijack();
      live.add(reply.raw);
    },
  );

  const url = await listen(app, ctx.host, ctx.port);
  return {
    url,
    stop: async () => {
      await live.close();
      await app.close();
    },
  };
}
