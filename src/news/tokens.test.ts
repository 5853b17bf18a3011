import { describe, expect, it } from 'vitest';

import { issueToken, type TokenClaims, verifyToken } from './tokens.js';

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
});
