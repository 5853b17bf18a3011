/** Request validation: bodies taken as sent, query strings and path parameters parsed strictly. */
import { Type } from '@fastify/type-provider-typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Readiness } from '../health.js';
import { createLogger } from '../logger.js';
import { createMetricsRegistry } from '../metrics.js';
import { createHttpServer, type HttpServer } from './server.js';

let app: HttpServer;

beforeAll(async () => {
  app = await createHttpServer({
    name: 'test',
    version: '1',
    logger: createLogger({ level: 'silent' }),
    metrics: createMetricsRegistry('test'),
    readiness: new Readiness(),
  });
  app.patch(
    '/tasks/:id',
    {
      schema: {
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ default: 50 })) }),
        body: Type.Object(
          {
            done: Type.Optional(Type.Boolean()),
            title: Type.Optional(Type.String()),
            vote: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
      },
    },
    (request) => ({ id: request.params.id, limit: request.query.limit, body: request.body }),
  );
});

afterAll(() => app.close());

async function patch(url: string, body: unknown) {
  const response = await app.inject({ method: 'PATCH', url, payload: body as object });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

describe('request validation', () => {
  it('accepts a body of the right types and converts decimal text in params and query', async () => {
    expect(await patch('/tasks/16?limit=7', { done: true, title: 't' })).toEqual({
      status: 200,
      body: { id: 16, limit: 7, body: { done: true, title: 't' } },
    });
    expect((await patch('/tasks/16', {})).body.limit).toBe(50);
  });

  it.each([
    [{ done: 'true' }, 'The field "done" must be a boolean.'],
    [{ done: 0 }, 'The field "done" must be a boolean.'],
    [{ done: null }, 'The field "done" must be a boolean.'],
    [{ title: true }, 'The field "title" must be a string.'],
    [{ vote: ['a'] }, 'The field "vote" must be a string.'],
  ])('refuses the body %j instead of coercing it', async (body, message) => {
    expect(await patch('/tasks/1', body)).toEqual({
      status: 400,
      body: { error: { code: 'invalid_request', message } },
    });
  });

  it.each(['0x10', '1e1', '16.0', ' 16', '+16', 'Infinity'])(
    'refuses the path id %j: an id is decimal digits',
    async (id) => {
      const { status, body } = await patch(`/tasks/${encodeURIComponent(id)}`, {});
      expect(status).toBe(400);
      expect(body).toEqual({
        error: {
          code: 'invalid_request',
          message: 'The path parameter "id" must be a whole number in decimal digits.',
        },
      });
    },
  );

  it.each(['0x10', '1e3', '', 'ten'])('refuses the query limit %j', async (limit) => {
    expect((await patch(`/tasks/1?limit=${limit}`, {})).status).toBe(400);
  });
});
