/**
 * The vote service's cookies without a server: reading the Cookie header, issuing a signed
 * voter id and refusing one this site did not sign.
 */
import { Signer } from '@fastify/cookie';
import { describe, expect, it } from 'vitest';

import { readCookies, VoterCookies } from './voter-cookies.js';

const newId = () => 'fresh-voter';

describe('the voter cookies', () => {
  it('reads voter_id and vote among other cookies, first of a name winning', () => {
    expect(readCookies('theme=dark; vote=b; voter_id=abc.sig; vote=a')).toEqual({
      voterId: 'abc.sig',
      vote: 'b',
    });
    expect(readCookies('voter_id="x%2By"')).toEqual({ voterId: 'x+y' });
    expect(readCookies('voter_id=%E0%A4%A')).toEqual({ voterId: '%E0%A4%A' });
    expect(readCookies(undefined)).toEqual({});
    expect(readCookies('garbage')).toEqual({});
  });

  it('issues a signed voter id that it then accepts, as @fastify/cookie signs', () => {
    const cookies = new VoterCookies('secret');
    const line = cookies.voterLine('voter-1');
    expect(line).toMatch(/^voter_id=[^;]+; Max-Age=31536000; Path=\/; HttpOnly; SameSite=Lax$/);
    const { voterId } = readCookies(line.split(';')[0]);
    expect(voterId).toBe(new Signer('secret').sign('voter-1'));
    expect(cookies.voterOf(voterId, newId)).toEqual({ id: 'voter-1', isNew: false });
    expect(cookies.choiceLine('b')).toBe('vote=b; Max-Age=31536000; Path=/; SameSite=Lax');
  });

  it('gives a new id without a cookie and refuses a forged or foreign one', () => {
    const cookies = new VoterCookies('secret');
    expect(cookies.voterOf(undefined, newId)).toEqual({ id: 'fresh-voter', isNew: true });
    expect(cookies.voterOf('voter-1.forged', newId)).toEqual({ forged: true });
    expect(cookies.voterOf(new Signer('other').sign('voter-1'), newId)).toEqual({ forged: true });
    // Signed by this site, but not a voter id (the pattern every voter id matches).
    expect(cookies.voterOf(new Signer('secret').sign('a b'), newId)).toEqual({ forged: true });
  });
});
