/**
 * Security headers on every answer: `nosniff` and a referrer policy everywhere, and on HTML
 * pages a Content-Security-Policy that forbids framing (`frame-ancestors 'none'`, clickjacking)
 * and allows only this origin's script files: no page has an inline script (`assets.ts` serves
 * them as files), so an injected one would not run even if escaping ever failed.
 */
import type {
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';

import type { Logger } from '../logger.js';

/** The CSP of every HTML page. */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  // Inline style attributes (bar widths, chart colours): styles cannot run code.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

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
      void reply.header('content-security-policy', contentSecurityPolicy);
      void reply.header('x-frame-options', 'DENY');
    }
    done(null, payload);
  });
}
