/**
 * A page `vite build` wrote under `dist/web/<name>` (the election dashboard, the console),
 * served at `/`. When it was never built, `/` answers 503 with a page that says how to build
 * it, instead of a bare 404.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import fastifyStatic from '@fastify/static';

import { packageDir } from '../package-root.js';
import type { HttpServer } from './server.js';

/** `dist/web/<name>` of the checkout or image this runs from (its package.json's folder). */
export function builtPageDir(name: string): string {
  return join(packageDir, 'dist', 'web', name);
}

/**
 * Serves `dir` at `/`, or `notBuilt` with a 503 when it holds no `index.html`; says which. A
 * built `favicon.svg` also answers `/favicon.ico`, which browsers ask for whatever the page links.
 */
export async function serveBuiltPage(
  app: HttpServer,
  dir: string,
  notBuilt: string,
): Promise<boolean> {
  if (!existsSync(join(dir, 'index.html'))) {
    app.get('/', (_request, reply) =>
      reply.status(503).type('text/html; charset=utf-8').send(notBuilt),
    );
    return false;
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
  if (existsSync(join(dir, 'favicon.svg'))) {
    app.get('/favicon.ico', { schema: { hide: true } }, (_request, reply) =>
      reply.type('image/svg+xml').sendFile('favicon.svg'),
    );
  }
  return true;
}
