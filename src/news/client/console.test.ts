/** The console menu's "log out": it says when the agent was unreachable, and keeps the session. */
import { describe, expect, it } from 'vitest';

import { NewsError } from '../protocol.js';
import { endSession } from './console.js';

const failing = (error: Error) => ({ logout: () => Promise.reject(error) });

describe('the console log out', () => {
  it('logs out when the agent ends the session', async () => {
    expect(await endSession({ logout: () => Promise.resolve() })).toEqual({
      loggedOut: true,
      text: 'Logged out.',
    });
  });

  it('keeps the session and says so when the agent cannot be reached', async () => {
    const ended = await endSession(failing(new NewsError('unavailable', 'agent down')));
    expect(ended.loggedOut).toBe(false);
    expect(ended.text).toMatch(/^Not logged out: .*agent down.*you stay logged in/);
  });

  it('forgets a session the agent says is over already', async () => {
    const ended = await endSession(failing(new NewsError('token_expired', 'expired')));
    expect(ended).toEqual({ loggedOut: true, text: 'Logged out (the session had ended already).' });
  });
});
