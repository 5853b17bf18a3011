/**
 * A small SVG icon for a service's pages, served at `/favicon.svg` and `/favicon.ico` (browsers
 * ask for the latter whatever the page says), so no page load ends in a 404.
 */
import type { HttpServer } from './server.js';

export interface FaviconOptions {
  /** Background colour of the rounded square. */
  color: string;
  /** One or two characters drawn in white. */
  glyph: string;
}

export function faviconSvg({ color, glyph }: FaviconOptions): string {
  const text = glyph.replace(/[<>&"]/g, '');
  return (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">' +
    `<rect width="64" height="64" rx="14" fill="${color}"/>` +
    '<text x="32" y="44" font-family="system-ui,sans-serif" font-size="34" font-weight="700" ' +
    `fill="#fff" text-anchor="middle">${text}</text></svg>`
  );
}

/** The `<link>` a page puts in its head. */
export const faviconLink = '<link rel="icon" href="/favicon.svg" type="image/svg+xml">';

export function addFavicon(app: HttpServer, options: FaviconOptions): void {
  const svg = faviconSvg(options);
  for (const path of ['/favicon.svg', '/favicon.ico']) {
    app.get(path, { schema: { hide: true } }, (_request, reply) =>
      reply.header('cache-control', 'public, max-age=86400').type('image/svg+xml').send(svg),
    );
  }
}
