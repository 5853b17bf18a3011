/** Security headers: nosniff everywhere, a no-framing CSP with inline scripts by hash on pages. */
import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Readiness } from '../health.js';
import { createLogger } from '../logger.js';
import { createMetricsRegistry } from '../metrics.js';
import { contentSecurityPolicy } from './security-headers.js';
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
  it('give a page a CSP that forbids framing and allows only its own inline script', async () => {
    const response = await app.inject({ url: '/page' });
    const csp = String(response.headers['content-security-policy']);
    const hash = createHash('sha256').update(script).digest('base64');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
  });

  it('give JSON nosniff and no page policy', async () => {
    const response = await app.inject({ url: '/json' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBeUndefined();
  });

  it('allow no inline script on a page whose body is not known (a static file)', () => {
    expect(contentSecurityPolicy(undefined)).toContain("script-src 'self';");
    expect(contentSecurityPolicy('<script src="/a.js"></script>')).toContain("script-src 'self';");
  });
});
