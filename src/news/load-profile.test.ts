/** `agora load news`'s verification: acknowledged posts against the news stored. */
import { describe, expect, it } from 'vitest';

import { UnreachableError } from './frame-client.js';
import { comparePosts, mayBeStored, type SentPost } from './load-profile.js';
import { NewsError, type NewsView } from './protocol.js';

const sent = (text: string, id?: string): SentPost => ({ area: 'sports', author: 'r1', text, id });
const item = (id: string, text: string): NewsView => ({
  id,
  area: 'sports',
  author: 'r1',
  text,
  postedAt: '2026-12-01T00:00:00.000Z',
  wasRead: false,
});

describe('comparePosts', () => {
  it('passes when each acknowledged post is stored once, and an unconfirmed one at most once', () => {
    const record = {
      acknowledged: [sent('r1 #1', '5')],
      unconfirmed: [sent('r1 #2'), sent('r1 #3')],
    };
    expect(comparePosts(record, [item('5', 'r1 #1'), item('6', 'r1 #3')])).toMatchObject({
      ok: true,
      checked: 1,
      differences: [],
    });
  });

  it('names a lost post, a doubled one, a wrong id and a refused post that was stored', () => {
    const record = {
      acknowledged: [sent('r1 #1', '5'), sent('r1 #2', '6'), sent('r1 #3', '7')],
      unconfirmed: [],
    };
    const stored = [
      item('9', 'r1 #2'),
      item('7', 'r1 #3'),
      item('8', 'r1 #3'),
      item('10', 'r1 #4'),
    ];
    expect(comparePosts(record, stored).differences).toEqual([
      '"r1 #3": stored 2 times',
      '"r1 #1": acknowledged as news 5 in sports, not stored',
      '"r1 #2": acknowledged as news 6, stored as 9',
      '"r1 #4": stored, but its post was refused',
    ]);
  });
});

describe('mayBeStored', () => {
  it('counts a lost answer, a timeout and an unavailable database as possibly stored', () => {
    expect(mayBeStored(new UnreachableError('connection reset'))).toBe(true);
    expect(mayBeStored(new NewsError('timeout', 'late'))).toBe(true);
    expect(mayBeStored(new NewsError('internal', 'bug'))).toBe(true);
    // Postgres may have committed the insert and died before answering.
    expect(mayBeStored(new NewsError('unavailable', 'the database is not answering'))).toBe(true);
    expect(mayBeStored(new Error('socket hang up'))).toBe(true);
  });

  it('counts a refusal by code as not stored', () => {
    expect(mayBeStored(new NewsError('invalid_request', 'text too long'))).toBe(false);
    expect(mayBeStored(new NewsError('not_subscribed', 'subscribe first'))).toBe(false);
  });
});
