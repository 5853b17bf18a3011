/** Security headers: nosniff everywhere, a no-framing CSP that runs no inline script on pages. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Readiness } from '../health.js';
import { createLogger } from '../logger.js';
import { createMetricsRegistry } from '../metrics.js';
import { createHttpServer, type HttpServer } from './server.js';

const script = 'document.title = "x";';
let app: HttpServer;

beforeAll(async () => {
  app = await createHttpServer({
    name: 'test',
    version: '1',
    logger: createLogger({ level: 'silent' }),
    metrics: createMetricsRegistry('test'),
    readiness: new Readiness(),
  });
  app.get('/page', (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(`<p>hi</p><script>${script}</script>`),
  );
  app.get('/json', () => ({ ok: true }));
});

afterAll(() => app.close());

describe('security headers', () => {
  it('give a page a CSP that forbids framing and runs no inline script, even its own', async () => {
    const response = await app.inject({ url: '/page' });
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    // An inline script in the body, as an injection that escaping missed would be, gets no
    // hash or nonce: only this origin's script files run.
    expect(csp.split('; ').find((directive) => directive.startsWith('script-src'))).toBe(
      "script-src 'self'",
    );
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
  });

  it('give JSON nosniff and no page policy', async () => {
    const response = await app.inject({ url: '/json' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBeUndefined();
  });
});
