/**
 * Security headers on every answer: `nosniff` and a referrer policy everywhere, and on HTML
 * pages a Content-Security-Policy that forbids framing (`frame-ancestors 'none'`, clickjacking)
 * and allows only this origin's scripts plus the page's own inline scripts, by hash, so an
 * injected script would not run even if escaping ever failed.
 */
import { createHash } from 'node:crypto';

import type {
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';

import type { Logger } from '../logger.js';

const inlineScript = /<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi;

/** The CSP for one HTML page: its inline scripts (when the body is known) by SHA-256. */
export function contentSecurityPolicy(html: string | undefined): string {
  const hashes = [...(html ?? '').matchAll(inlineScript)].map(
    ([, body]) =>
      `'sha256-${createHash('sha256')
        .update(body ?? '')
        .digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src 'self'${hashes.map((hash) => ` ${hash}`).join('')}`,
    // Inline style attributes (bar widths, chart colours): styles cannot run code.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function addSecurityHeaders(
  app: FastifyInstance<
    RawServerDefault,
    RawRequestDefaultExpression,
    RawReplyDefaultExpression,
    Logger
  >,
): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) {
      const html =
        typeof payload === 'string'
          ? payload
          : Buffer.isBuffer(payload)
            ? payload.toString('utf8')
            : undefined;
      void reply.header('content-security-policy', contentSecurityPolicy(html));
      void reply.header('x-frame-options', 'DENY');
    }
    done(null, payload);
  });
}
