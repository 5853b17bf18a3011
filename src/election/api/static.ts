/**
 * Serves the built dashboard (`vite build` writes it to `dist/web/election-dashboard`) at `/`. When it was never
 * built, `/` says so and how to build it, instead of a bare 404.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import fastifyStatic from '@fastify/static';

import { addFavicon } from '../../platform/http/favicon.js';
import type { HttpServer } from '../../platform/http/server.js';

/**
 * `dist/web/election-dashboard`, found from this file: compiled it sits in
 * `dist/src/election/api/`, run from source (tests) in `src/election/api/`.
 */
export function dashboardDir(): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const built = basename(root) === 'dist' ? root : join(root, 'dist');
  return join(built, 'web', 'election-dashboard');
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Election dashboard not built</title></head>
<body><h1>The election dashboard is not built</h1>
<p>Run <code>npm run build</code> (it also builds the dashboard into <code>dist/web/election-dashboard</code>),
then reload. The JSON API under <code>/api/</code> works without it.</p></body></html>`;

export async function serveDashboard(app: HttpServer, dir = dashboardDir()): Promise<void> {
  if (!existsSync(join(dir, 'index.html'))) {
    app.get('/', (_request, reply) =>
      reply.status(503).type('text/html; charset=utf-8').send(notBuiltPage),
    );
    addFavicon(app, { color: '#1d4ed8', glyph: 'E' });
    return;
  }
  // Files are looked up per request (wildcard), so a rebuild under a running server is served
  // at once. Vite fingerprints asset names, so they may be cached for good; index.html not.
  await app.register(fastifyStatic, {
    root: dir,
    setHeaders: (reply, path) => {
      reply.header(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  // Browsers ask for /favicon.ico whatever the page links: the dashboard's own icon answers.
  if (existsSync(join(dir, 'favicon.svg'))) {
    app.get('/favicon.ico', { schema: { hide: true } }, (_request, reply) =>
      reply.type('image/svg+xml').sendFile('favicon.svg'),
    );
  }
}
