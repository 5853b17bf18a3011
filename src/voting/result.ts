/**
 * The result service (seeds 000/001, part 4): the tally as a live page, an SSE stream and
 * `GET /api/results`. It applies the voting migrations itself, so it never answers
 * "relation does not exist" when it starts before the worker.
 */
import { retryWithBackoff } from '../platform/backoff.js';
import { SqlUnavailableError, UnavailableError } from '../platform/errors.js';
import { createHttpServer, listen } from '../platform/http/server.js';
import type { Unsubscribe } from '../platform/broker/broker.js';
import { defineService } from '../platform/service.js';
import { migrateWhenReady } from '../platform/sql/migrations.js';
import { addFavicon } from '../platform/http/favicon.js';
import { chooseLanguage } from '../platform/http/language.js';
import { labelSettings, labelsOf } from './labels.js';
import { optionColors } from './page-layout.js';
import { pageHref, pageLinkSettings } from './page-links.js';
import { LiveResults } from './live-results.js';
import { votingMigrations } from './migrations.js';
import { talliesChannel, votingSystem } from './protocol.js';
import { renderResultPage } from './result-page.js';
import { resultsOf, type Results } from './results.js';
import { selectTally } from './vote-store.js';

export const resultService = defineService({
  name: 'result',
  system: 'voting',
  description: 'Live results: page, SSE stream and JSON API',
  defaultPort: 8081,
  scaling: 'shared-port',
  needs: ['broker', 'sql'],
  settings: { ...labelSettings, votePublicUrl: pageLinkSettings.votePublicUrl },

  async start(ctx) {
    const labels = labelsOf(ctx.config);
    let schemaReady = false;
    ctx.readiness.add('voting schema', () =>
      schemaReady ? Promise.resolve() : Promise.reject(new Error('waiting for the database')),
    );
    void migrateWhenReady(ctx.sql, votingSystem, votingMigrations, {
      signal: ctx.signal,
      logger: ctx.logger,
    }).then(
      () => {
        schemaReady = true;
      },
      (error: unknown) => {
        if (!ctx.signal.aborted) ctx.logger.error({ err: error }, 'voting migrations failed');
      },
    );

    async function currentResults(): Promise<Results> {
      if (!schemaReady) {
        throw new UnavailableError(
          'database',
          'Results are not ready yet: waiting for the database.',
        );
      }
      try {
        return resultsOf(await selectTally(ctx.sql), labels);
      } catch (error) {
        if (!(error instanceof SqlUnavailableError)) throw error;
        throw new UnavailableError(
          'database',
          'Results are unavailable: the database is not answering. They come back by themselves.',
          { cause: error },
        );
      }
    }

    const live = new LiveResults(currentResults, ctx.logger);
    // The notification only says "changed": reading the two tally rows again keeps the order
    // of updates right whatever order notifications arrive in.
    const subscribed: Promise<Unsubscribe | undefined> = retryWithBackoff(
      () =>
        ctx.broker.subscribe(talliesChannel, () => {
          live.refresh();
        }),
      { signal: ctx.signal },
    ).catch(() => undefined);

    const app = createHttpServer(ctx);

    addFavicon(app, { color: optionColors.b, glyph: 'R' });

    app.get('/', async (request, reply) => {
      // Before the database answers the page still renders, at zero, and fills in live.
      const results = await currentResults().catch(() =>
        resultsOf({ counts: { a: 0, b: 0 }, total: 0 }, labels),
      );
      const { language, setCookie } = chooseLanguage(request.query, request.headers);
      if (setCookie !== undefined) reply.header('set-cookie', setCookie);
      const voteHref = pageHref(ctx.config.votePublicUrl, request, 8080);
      return reply
        .type('text/html; charset=utf-8')
        .send(renderResultPage({ results, language, voteHref }));
    });

    app.get('/api/results', () => currentResults());

    // For `agora load voting`: which store the tally it reads comes from.
    app.get('/api/verify/store', () => ({ store: ctx.sql.driver }));

    app.get('/api/stream', (_request, reply) => {
      reply.hijack();
      live.add(reply.raw);
    });

    const url = await listen(app, ctx.host, ctx.port);
    return {
      url,
      stop: async () => {
        live.close();
        await (
          await subscribed
        )?.();
        await app.close();
      },
    };
  },
});
