/** A node checks a token's signature before it asks the database anything. */
import { describe, expect, it } from 'vitest';

import type { Sql } from '../../platform/sql/sql.js';
import { issueToken } from '../tokens.js';
import { nodeHandler } from './ops.js';

const secret = Buffer.from('n'.repeat(32));
const now = Date.now() / 1000;
const claims = { sub: '1', name: 'ana', sid: 's', iat: now, exp: now + 60 };

describe('a node and forged tokens', () => {
  it.each([
    ['no token', undefined],
    ['a malformed token', 'v1.garbage'],
    ['a token signed with another secret', issueToken(Buffer.from('x'.repeat(32)), claims)],
  ])('refuses %s without a database query', async (_case, token) => {
    const queries: string[] = [];
    const sql = {
      query: (text: string) => {
        queries.push(text);
        return Promise.reject(new Error('the database was asked'));
      },
    } as unknown as Sql;
    const handle = nodeHandler({ sql, secret, address: '127.0.0.1:1' });
    for (const op of ['news', 'post', 'subscribe', 'unsubscribe', 'delete']) {
      const frame = { v: 1, id: 1, op, area: 'sport', text: 'hi', news: '1', token };
      await expect(handle(frame, { address: '127.0.0.1' })).rejects.toMatchObject({
        code: 'unauthenticated',
      });
    }
    expect(queries).toEqual([]);
  });
});
