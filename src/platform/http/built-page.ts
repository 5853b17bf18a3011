/**
 * A page `vite build` wrote under `dist/web/<name>` (the election dashboard, the console),
 * served at `/`. When it was never built, `/` answers 503 with a page that says how to build
 * it, instead of a bare 404.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import fastifyStatic from '@fastify/static';

import type { HttpServer } from './server.js';

/** `dist/web/<name>`, found from this file (in `dist/src/platform/http/`, or `src/` from source). */
export function builtPageDir(name: string): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const built = basename(root) === 'dist' ? root : join(root, 'dist');
  return join(built, 'web', name);
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
