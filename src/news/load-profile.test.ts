/** `agora load news`'s verification: acknowledged posts against the news stored. */
import { describe, expect, it } from 'vitest';

import { comparePosts, type SentPost } from './load-profile.js';
import type { NewsView } from './protocol.js';

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
