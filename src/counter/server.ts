/**
 * The counter's server: `GET /` counts a hit and answers with the total: a page for browsers,
 * JSON when asked for, the seed's plain text otherwise. Each says what holds the count (Redis,
 * or the embedded broker).
 */
import { addStylesheet } from '../platform/http/assets.js';
import { addFavicon } from '../platform/http/favicon.js';
import { chooseLanguage } from '../platform/http/language.js';
import { createHttpServer, listen } from '../platform/http/server.js';
import type { ContextOf, ServiceHandle } from '../platform/service.js';
import { greeting, HitCounter } from './hits.js';
import { counterColor, counterStyle, renderCounterPage } from './page.js';
import type { counterService } from './service.js';

// Plain JSON Schema rather than TypeBox, whose 370 modules cost 50 of the counter's 710 ms of
// CPU to ready; the JSON answer is typed by what builds it.
const countSchema = {
  summary:
    'Count a hit: a page for browsers, JSON when asked for (Accept or ?format=json), else text',
  produces: ['text/html', 'application/json', 'text/plain'],
  response: {
    200: {
      content: {
        'text/html': { schema: { type: 'string' } },
        'text/plain': { schema: { type: 'string' } },
        'application/json': {
          schema: {
            type: 'object',
            properties: {
              hits: { type: 'integer', minimum: 1 },
              message: { type: 'string' },
              backend: { type: 'string', enum: ['redis', 'memory'] },
            },
            required: ['hits', 'message', 'backend'],
          },
        },
      },
    },
  },
} as const;

export async function startCounter(ctx: ContextOf<typeof counterService>): Promise<ServiceHandle> {
  const app = await createHttpServer(ctx, {
    title: 'Agora counter',
    description: 'The hit counter of seeds 000/001, part 1.',
  });
  addFavicon(app, { color: counterColor, glyph: '#' });
  const stylesheet = addStylesheet(app, 'counter', counterStyle);
  const backend = ctx.broker.driver;
  const hitCounter = new HitCounter(ctx.broker);

  app.get('/', { schema: countSchema }, async (request, reply) => {
    const hits = await hitCounter.count();
    const message = greeting(hits, backend);
    const accept = request.headers.accept ?? '';
    const format = (request.query as { format?: unknown } | undefined)?.format;
    if (format === 'json' || accept.includes('application/json')) {
      return { hits, message, backend };
    }
    if (accept.includes('text/html')) {
      const { language, setCookie } = chooseLanguage(request.query, request.headers);
      if (setCookie !== undefined) reply.header('set-cookie', setCookie);
      return reply
        .type('text/html; charset=utf-8')
        .send(renderCounterPage(hits, backend, language, stylesheet));
    }
    return reply.type('text/plain; charset=utf-8').send(message);
  });

  const url = await listen(app, ctx.host, ctx.port);
  return { url, stop: () => app.close() };
}
