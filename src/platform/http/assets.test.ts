import { afterAll, beforeAll, expect, it } from 'vitest';

import { Readiness } from '../health.js';
import { createLogger } from '../logger.js';
import { createMetricsRegistry } from '../metrics.js';
import { addScript, addStylesheet } from './assets.js';
import { createHttpServer, type HttpServer } from './server.js';

let app: HttpServer;
let links: string[];
let script: string;

beforeAll(async () => {
  app = await createHttpServer({
    name: 'test',
    version: '1.0.0',
    logger: createLogger({ level: 'silent' }),
    metrics: createMetricsRegistry('test'),
    readiness: new Readiness(),
  });
  links = [
    addStylesheet(app, 'page', 'body { color: red; }'),
    addStylesheet(app, 'other', 'body { color: blue; }'),
  ];
  script = addScript(app, 'live', 'console.log(1);');
  await app.ready();
});
afterAll(() => app.close());

const hrefOf = (link: string) => /href="([^"]+)"/.exec(link)?.[1] ?? '';

it('serves the CSS at a URL named by its content, for browsers to keep', async () => {
  const [page, other] = links.map(hrefOf);
  expect(page).toMatch(/^\/assets\/page\.[0-9a-f]{12}\.css$/);
  // Other contents, another hash: a changed stylesheet is never served from a stale cache.
  expect(other?.split('.')[1]).not.toBe(page?.split('.')[1]);
  const answer = await app.inject({ method: 'GET', url: page ?? '' });
  expect(answer.statusCode).toBe(200);
  expect(answer.body).toBe('body { color: red; }');
  expect(answer.headers['content-type']).toBe('text/css; charset=utf-8');
  expect(answer.headers['cache-control']).toBe('public, max-age=31536000, immutable');
});

it('answers 404 for a stylesheet of other contents', async () => {
  const answer = await app.inject({ method: 'GET', url: '/assets/page.000000000000.css' });
  expect(answer.statusCode).toBe(404);
});

it('serves a script as a file, for pages that may run no inline script', async () => {
  expect(script).toMatch(/^<script src="\/assets\/live\.[0-9a-f]{12}\.js" defer><\/script>$/);
  const answer = await app.inject({ method: 'GET', url: /src="([^"]+)"/.exec(script)?.[1] ?? '' });
  expect(answer.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(answer.body).toBe('console.log(1);');
});
