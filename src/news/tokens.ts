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

/**
 * Tokens already found genuine, per secret: a client sends the same token with every request,
 * and checking its HMAC again each time was a tenth of the agent's CPU per `route`. Only
 * genuine tokens enter (a forged one is checked every time), a token's claims never change,
 * and expiry is still checked on every call; revocation is not a property of the token and is
 * checked elsewhere, as before. At most `maxVerified` per secret, the oldest dropped first.
 */
const verified = new WeakMap<Buffer, Map<string, TokenClaims>>();
export const maxVerified = 10_000;

/** Returns the claims of a genuine, unexpired token; throws NewsError otherwise. */
export function verifyToken(secret: Buffer, token: unknown, nowMs = Date.now()): TokenClaims {
  if (typeof token !== 'string' || token === '') {
    throw new NewsError('unauthenticated', 'log in first: this operation needs a session token');
  }
  let known = verified.get(secret);
  if (known === undefined) {
    known = new Map();
    verified.set(secret, known);
  }
  const claims = known.get(token) ?? checkSignature(secret, token, known);
  if (claims.exp * 1000 <= nowMs) {
    throw new NewsError('token_expired', 'the session has expired; log in again');
  }
  return claims;
}

/** The claims of a token whose signature is genuine, remembered in `known`; throws otherwise. */
function checkSignature(
  secret: Buffer,
  token: string,
  known: Map<string, TokenClaims>,
): TokenClaims {
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
  const claims = Object.freeze(parseClaims(payload));
  if (known.size >= maxVerified) {
    const oldest = known.keys().next();
    if (oldest.done !== true) known.delete(oldest.value);
  }
  known.set(token, claims);
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
