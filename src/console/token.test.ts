import { describe, expect, it } from 'vitest';

import { bearerOf, makeToken, tokenMatches } from './token.js';

describe('action token', () => {
  it('matches only the same token', () => {
    const token = makeToken();
    expect(token.length).toBeGreaterThanOrEqual(24);
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(token, `${token}x`)).toBe(false);
    expect(tokenMatches(token, '')).toBe(false);
    expect(tokenMatches(token, undefined)).toBe(false);
  });

  it('reads a bearer header and nothing else', () => {
    expect(bearerOf('Bearer abc')).toBe('abc');
    expect(bearerOf('bearer abc')).toBe('abc');
    expect(bearerOf('Basic abc')).toBeUndefined();
    expect(bearerOf(undefined)).toBeUndefined();
  });
});
