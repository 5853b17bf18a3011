/** The OpenAPI document and its UI, built on their first request from the routes recorded. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Readiness } from '../health.js';
import { createLogger } from '../logger.js';
import { createMetricsRegistry } from '../metrics.js';
import { createHttpServer, type HttpServer } from './server.js';

let app: HttpServer;

beforeAll(async () => {
  app = await createHttpServer(
    {
      name: 'test',
      version: '1.2.3',
      logger: createLogger({ level: 'silent' }),
      metrics: createMetricsRegistry('test'),
      readiness: new Readiness(),
    },
    { title: 'Agora test', description: 'A server with one route of its own.' },
  );
  app.get(
    '/items/:id',
    {
      schema: {
        summary: 'One item',
        params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
        response: { 200: { type: 'object', properties: { id: { type: 'integer' } } } },
      },
    },
    (request) => ({ id: request.params.id }),
  );
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, { summary?: string }>>;
}

describe('the docs', () => {
  it('describe the routes added after the server was made, not themselves', async () => {
    const response = await app.inject({ url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const document = response.json<OpenApiDocument>();
    expect(document.info).toEqual({
      title: 'Agora test',
      version: '1.2.3',
      description: 'A server with one route of its own.',
    });
    expect(Object.keys(document.paths).sort()).toEqual([
      '/healthz',
      '/items/{id}',
      '/metrics',
      '/readyz',
    ]);
    expect(document.paths['/items/{id}']?.get?.summary).toBe('One item');
  });

  it('serve the browsable UI, its files, and HEAD with the length of GET', async () => {
    const page = await app.inject({ url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    // The platform's headers apply to the docs as to any page.
    expect(page.headers['x-frame-options']).toBe('DENY');
    const script = await app.inject({ url: '/docs/static/swagger-initializer.js' });
    expect(script.statusCode).toBe(200);
    const css = await app.inject({ url: '/docs/static/swagger-ui.css' });
    const head = await app.inject({ method: 'HEAD', url: '/docs/static/swagger-ui.css' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(css.rawPayload.length));
    expect(head.body).toBe('');
  });

  it('answer 404 under /docs as the UI does for a file it does not have', async () => {
    expect((await app.inject({ url: '/docs/static/no-such-file.js' })).statusCode).toBe(404);
  });
});
