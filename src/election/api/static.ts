/**
 * Serves the built dashboard (`vite build` writes it to `dist/web/election-dashboard`) at `/`. When it was never
 * built, `/` says so and how to build it, instead of a bare 404.
 */
import { builtPageDir, serveBuiltPage } from '../../platform/http/built-page.js';
import { addFavicon } from '../../platform/http/favicon.js';
import type { HttpServer } from '../../platform/http/server.js';

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Election dashboard not built</title></head>
<body><h1>The election dashboard is not built</h1>
<p>Run <code>npm run build</code> (it also builds the dashboard into <code>dist/web/election-dashboard</code>),
then reload. The JSON API under <code>/api/</code> works without it.</p></body></html>`;

export async function serveDashboard(
  app: HttpServer,
  dir = builtPageDir('election-dashboard'),
): Promise<void> {
  // The built page brings its own icon; without it, a drawn one answers.
  if (!(await serveBuiltPage(app, dir, notBuiltPage))) {
    addFavicon(app, { color: '#1d4ed8', glyph: 'E' });
  }
}
