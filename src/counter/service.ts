/**
 * The counter service (seeds 000 and 001, part 1): `GET /` counts a hit in Redis and answers
 * with the total, as text or, when the client asks for it, JSON.
 */
import { Type } from '@fastify/type-provider-typebox';
import { createHttpServer, listen } from '../platform/http/server.js';
import { defineService } from '../platform/service.js';
import { countHit, greeting } from './hits.js';

const countSchema = {
  summary: 'Count a hit: plain text, or JSON when the client accepts application/json',
  produces: ['text/plain', 'application/json'],
  response: {
    200: {
      content: {
        'text/plain': { schema: Type.String() },
        'application/json': {
          schema: Type.Object({ hits: Type.Integer({ minimum: 1 }), message: Type.String() }),
        },
      },
    },
  },
};

export const counterService = defineService({
  name: 'counter',
  system: 'counter',
  description: 'Web hit counter backed by Redis',
  defaultPort: 5000,
  portAliases: ['BIND_PORT'],
  needs: ['broker'],
  settings: {},

  async start(ctx) {
    const app = await createHttpServer(ctx, {
      title: 'Agora counter',
      description: 'The hit counter of seeds 000/001, part 1.',
    });

    app.get('/', { schema: countSchema }, async (request, reply) => {
      const hits = await countHit(ctx.broker);
      const message = greeting(hits);
      if (request.headers.accept?.includes('application/json') === true) {
        return { hits, message };
      }
      return reply.type('text/plain; charset=utf-8').send(message);
    });

    const url = await listen(app, ctx.host, ctx.port);
    return { url, stop: () => app.close() };
  },
});
