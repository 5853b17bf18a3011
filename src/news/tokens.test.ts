import { describe, expect, it } from 'vitest';

import { issueToken, maxVerified, type TokenClaims, verifyToken } from './tokens.js';

const secret = Buffer.from('a secret of the deployment, long enough');
const now = Math.floor(Date.now() / 1000);
const claims: TokenClaims = { sub: '7', name: 'ana', sid: 's1', iat: now, exp: now + 60 };

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('session tokens', () => {
  it('returns the claims of a genuine token', () => {
    expect(verifyToken(secret, issueToken(secret, claims))).toEqual(claims);
  });

  it('refuses a token whose payload was changed to another user', () => {
    const [version, , signature] = issueToken(secret, claims).split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: '1' })).toString('base64url');
    expect(codeOf(() => verifyToken(secret, `${version}.${forged}.${signature}`))).toBe(
      'unauthenticated',
    );
  });

  it('refuses a token signed with another secret, and garbage', () => {
    const other = issueToken(Buffer.from('another deployment secret, long enough'), claims);
    expect(codeOf(() => verifyToken(secret, other))).toBe('unauthenticated');
    for (const bad of ['', 'x', 'v1.a.b.c', 'v2.a.b', undefined, 42]) {
      expect(codeOf(() => verifyToken(secret, bad))).toBe('unauthenticated');
    }
  });

  it('refuses an expired token with its own code', () => {
    const expired = issueToken(secret, { ...claims, exp: now - 1 });
    expect(codeOf(() => verifyToken(secret, expired))).toBe('token_expired');
  });

  it('still refuses a token it found genuine once it expires', () => {
    const token = issueToken(secret, claims);
    expect(verifyToken(secret, token)).toEqual(claims);
    expect(codeOf(() => verifyToken(secret, token, (claims.exp + 1) * 1000))).toBe('token_expired');
  });

  it('checks a genuine token against each secret apart', () => {
    const token = issueToken(secret, claims);
    expect(verifyToken(secret, token)).toEqual(claims);
    const other = Buffer.from('another deployment secret, long enough');
    expect(codeOf(() => verifyToken(other, token))).toBe('unauthenticated');
  });

  it('refuses a forged token after the genuine one was accepted', () => {
    const token = issueToken(secret, claims);
    expect(verifyToken(secret, token)).toEqual(claims);
    const [version, payload] = token.split('.');
    expect(codeOf(() => verifyToken(secret, `${version}.${payload}.${'A'.repeat(43)}`))).toBe(
      'unauthenticated',
    );
  });

  it('keeps accepting genuine tokens past the number it remembers', () => {
    const many = Array.from({ length: maxVerified + 10 }, (_, i) =>
      issueToken(secret, { ...claims, sid: `many-${i}` }),
    );
    for (const token of many) verifyToken(secret, token);
    expect(verifyToken(secret, many[0]).sid).toBe('many-0');
    expect(verifyToken(secret, many.at(-1)).sid).toBe(`many-${maxVerified + 9}`);
  });
});
