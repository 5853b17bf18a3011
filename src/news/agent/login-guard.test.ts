import { describe, expect, it } from 'vitest';

import { NewsError } from '../protocol.js';
import { LoginGuard } from './login-guard.js';

const wrong = () => Promise.reject(new NewsError('bad_credentials', 'wrong name or password'));

function guardAt(clock: { now: number }, maxInFlight = 8) {
  return new LoginGuard({
    freeFailures: { name: 2, address: 4 },
    backoffMs: 1_000,
    backoffMaxMs: 4_000,
    maxInFlight,
    now: () => clock.now,
  });
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  return work.then(
    () => 'ok',
    (error: unknown) => (error instanceof NewsError ? error.code : 'other'),
  );
}

describe('the login guard', () => {
  it('makes a name wait after its free failures, twice as long each time, up to the cap', async () => {
    const clock = { now: 0 };
    const guard = guardAt(clock);
    const who = { name: 'Ana', address: 'a' };
    expect(await codeOf(guard.attempt(who, wrong))).toBe('bad_credentials');
    expect(await codeOf(guard.attempt(who, wrong))).toBe('bad_credentials');
    expect(await codeOf(guard.attempt(who, wrong))).toBe('bad_credentials');
    // Three failures, two free: a 1 s wait, the same for any spelling of the name.
    expect(await codeOf(guard.attempt({ name: 'ana', address: 'b' }, wrong))).toBe('rate_limited');
    clock.now = 1_000;
    expect(await codeOf(guard.attempt(who, wrong))).toBe('bad_credentials');
    clock.now = 2_999;
    expect(await codeOf(guard.attempt(who, wrong))).toBe('rate_limited');
    clock.now = 3_000;
    expect(await codeOf(guard.attempt(who, () => Promise.resolve('token')))).toBe('ok');
    // A success clears the name's failures.
    expect(await codeOf(guard.attempt(who, wrong))).toBe('bad_credentials');
  });

  it('makes an address wait after its own free failures, whatever names it tries', async () => {
    const guard = guardAt({ now: 0 });
    for (let i = 0; i < 5; i++) {
      expect(await codeOf(guard.attempt({ name: `user${i}`, address: 'x' }, wrong))).toBe(
        'bad_credentials',
      );
    }
    expect(await codeOf(guard.attempt({ name: 'other', address: 'x' }, wrong))).toBe(
      'rate_limited',
    );
    expect(await codeOf(guard.attempt({ name: 'other', address: 'y' }, wrong))).toBe(
      'bad_credentials',
    );
  });

  it('answers busy past the hashes in flight, and serves again once they finish', async () => {
    const guard = guardAt({ now: 0 }, 2);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = guard.attempt({ address: 'a' }, () => held);
    const second = guard.attempt({ address: 'b' }, () => held);
    expect(await codeOf(guard.attempt({ address: 'c' }, () => Promise.resolve()))).toBe('busy');
    release();
    await Promise.all([first, second]);
    expect(await codeOf(guard.attempt({ address: 'c' }, () => Promise.resolve()))).toBe('ok');
  });
});
