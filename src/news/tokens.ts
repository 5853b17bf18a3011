/**
 * Session tokens: `v1.<payload>.<signature>`, base64url, HMAC-SHA256 over the payload with the
 * deployment's news secret. The agent issues them at login; nodes verify them alone, without
 * asking the agent. A token carries its session id so logout can revoke it before it expires.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import { NewsError } from './protocol.js';

export interface TokenClaims {
  /** User id. */
  sub: string;
  name: string;
  /** Session id, revocable at logout. */
  sid: string;
  /** Issued at and expiry, in seconds since the epoch. */
  iat: number;
  exp: number;
}

const prefix = 'v1';

function sign(secret: Buffer, payload: string): string {
  return createHmac('sha256', secret).update(`${prefix}.${payload}`).digest('base64url');
}

export function issueToken(secret: Buffer, claims: TokenClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${prefix}.${payload}.${sign(secret, payload)}`;
}

/** Returns the claims of a genuine, unexpired token; throws NewsError otherwise. */
export function verifyToken(secret: Buffer, token: unknown, nowMs = Date.now()): TokenClaims {
  if (typeof token !== 'string' || token === '') {
    throw new NewsError('unauthenticated', 'log in first: this operation needs a session token');
  }
  const [version, payload, signature, extra] = token.split('.');
  if (
    version !== prefix ||
    payload === undefined ||
    signature === undefined ||
    extra !== undefined
  ) {
    throw new NewsError('unauthenticated', 'the session token is malformed');
  }
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new NewsError('unauthenticated', 'the session token is not genuine');
  }
  const claims = parseClaims(payload);
  if (claims.exp * 1000 <= nowMs) {
    throw new NewsError('token_expired', 'the session has expired; log in again');
  }
  return claims;
}

function parseClaims(payload: string): TokenClaims {
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
    if (
      typeof claims.sub === 'string' &&
      typeof claims.name === 'string' &&
      typeof claims.sid === 'string' &&
      Number.isFinite(claims.iat) &&
      Number.isFinite(claims.exp)
    ) {
      return claims;
    }
  } catch {
    // A signed but unreadable payload is only possible with a leaked secret; refuse it alike.
  }
  throw new NewsError('unauthenticated', 'the session token is malformed');
}
