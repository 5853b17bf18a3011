/**
 * The seed trusted the client; these check that nothing does now: forged, expired, foreign
 * and revoked tokens, non-admin area operations, deleting someone else's news, wrong
 * passwords, each refused with its code and nothing changed; hostile text stored literally.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createAdmin } from '../../src/news/accounts.js';
import { callNews } from '../../src/news/frame-client.js';
import { NewsError } from '../../src/news/protocol.js';
import { issueToken, verifyToken } from '../../src/news/tokens.js';
import { uniqueName } from '../support/backends.js';
import { dropSchema, type NewsCluster, startNewsCluster, testSecret } from '../support/news.js';

const schema = uniqueName('news_sec');
let cluster: NewsCluster;
let anaToken: string;
let node: string;

beforeAll(async () => {
  cluster = await startNewsCluster(schema, 1);
  node = cluster.nodes[0] ?? '';
  await createAdmin(cluster.sql, 'root', 'root-password');
  const admin = cluster.client();
  await admin.login('root', 'root-password');
  await admin.addArea('news');
  const ana = cluster.client();
  anaToken = (await ana.register('ana', 'ana-password')).token;
  await ana.subscribe('news');
  await ana.post('news', 'first');
});

afterAll(async () => {
  await cluster.stop();
  await dropSchema(schema);
});

async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (error instanceof NewsError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

async function count(table: string): Promise<number> {
  // Table names below are constants of this file, never input.
  const { rows } = await cluster.sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table}`,
  );
  return rows[0]?.n ?? -1;
}

describe('tokens', () => {
  it('refuses a token forged for another user (payload changed, signature kept)', async () => {
    const [version, payload, signature] = anaToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as object;
    const forged = `${version}.${Buffer.from(JSON.stringify({ ...claims, sub: '1', name: 'root' })).toString('base64url')}.${signature}`;
    expect(
      await refusal(callNews(cluster.agent, { op: 'add_area', name: 'x', token: forged })),
    ).toBe('unauthenticated');
    expect(
      await refusal(callNews(node, { op: 'post', area: 'news', text: 'x', token: forged })),
    ).toBe('unauthenticated');
    expect(await count('news_areas')).toBe(1);
  });

  it('refuses a token signed with another secret (another deployment or a guess)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = issueToken(Buffer.from('not the secret of this deployment!!'), {
      sub: '1',
      name: 'root',
      sid: 'x',
      iat: now,
      exp: now + 600,
    });
    expect(await refusal(callNews(node, { op: 'news', area: 'news', token }))).toBe(
      'unauthenticated',
    );
  });

  it('refuses an expired token on agent and node', async () => {
    const claims = verifyToken(Buffer.from(testSecret), anaToken);
    const expired = issueToken(Buffer.from(testSecret), { ...claims, exp: claims.iat - 1 });
    expect(await refusal(callNews(cluster.agent, { op: 'my_areas', token: expired }))).toBe(
      'token_expired',
    );
    expect(await refusal(callNews(node, { op: 'news', area: 'news', token: expired }))).toBe(
      'token_expired',
    );
  });

  it('a missing token is refused before anything else is looked at', async () => {
    expect(await refusal(callNews(node, { op: 'subscribe', area: 'news' }))).toBe(
      'unauthenticated',
    );
    expect(await refusal(callNews(cluster.agent, { op: 'route', area: 'news' }))).toBe(
      'unauthenticated',
    );
  });
});

describe('rights', () => {
  it('a non-admin can neither add nor remove an area', async () => {
    expect(
      await refusal(callNews(cluster.agent, { op: 'add_area', name: 'mine', token: anaToken })),
    ).toBe('forbidden');
    expect(
      await refusal(callNews(cluster.agent, { op: 'remove_area', name: 'news', token: anaToken })),
    ).toBe('forbidden');
    expect(await count('news_areas')).toBe(1);
  });

  it("nobody deletes another user's news, with their own genuine token", async () => {
    const bob = cluster.client();
    await bob.register('bob', 'bob-password');
    await bob.subscribe('news');
    const ana = cluster.client();
    ana.token = anaToken;
    const [first] = await ana.read('news');
    expect(await refusal(bob.delete(first?.id ?? ''))).toBe('not_author');
    expect(await count('news_items')).toBe(1);
  });

  it('a wrong password or unknown name logs nobody in, with one code for both', async () => {
    const client = cluster.client();
    expect(await refusal(client.login('ana', 'wrong-password'))).toBe('bad_credentials');
    expect(await refusal(client.login('nobody', 'whatever-password'))).toBe('bad_credentials');
    expect(client.token).toBeUndefined();
  });

  it('a taken name cannot be registered again (no account takeover)', async () => {
    expect(await refusal(cluster.client().register('ana', 'new-password!'))).toBe('name_taken');
    await cluster.client().login('ana', 'ana-password');
  });

  it('passwords are stored as salted scrypt hashes, never in clear', async () => {
    const { rows } = await cluster.sql.query<{ password_hash: string }>(
      'SELECT password_hash FROM news_users',
    );
    const hashes = rows.map((row) => row.password_hash);
    expect(hashes.every((hash) => hash.startsWith('scrypt$'))).toBe(true);
    expect(hashes.some((hash) => hash.includes('password'))).toBe(false);
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});

describe('hostile text', () => {
  const nasty = [
    `Robert'); DROP TABLE news_users;--`,
    `" OR 1=1; DELETE FROM news_items WHERE ''='`,
    `SELECT * FROM news_areas; -- \\ $1 $$ ' " \``,
  ];

  it('names, areas and news full of quotes, semicolons and SQL are stored and returned literally', async () => {
    const admin = cluster.client();
    await admin.login('root', 'root-password');
    for (const [index, text] of nasty.entries()) {
      await admin.addArea(text);
      const user = cluster.client();
      const login = await user.register(text, `password-${index}`);
      expect(login.user.name).toBe(text);
      await user.subscribe(text);
      const posted = await user.post(text, text);
      expect(posted).toMatchObject({ text, author: text, area: text });
      const [read] = await user.read(text);
      expect(read).toMatchObject({ text, author: text, area: text });
      expect((await user.myAreas()).map((a) => a.name)).toEqual([text]);
    }
    expect(await count('news_users')).toBe(3 + nasty.length);
    expect(await count('news_items')).toBe(1 + nasty.length);
  });
});

describe('create-admin', () => {
  it('never promotes an ordinary user, whose tokens would become admin tokens', async () => {
    const mallory = cluster.client();
    await mallory.register('mallory', 'mallory-password');
    await expect(refusal(createAdmin(cluster.sql, 'mallory', 'new-password'))).resolves.toBe(
      'name_taken',
    );
    expect(await refusal(mallory.addArea('mallory-area'))).toBe('forbidden');
    await mallory.login('mallory', 'mallory-password');
  });
});

describe('names that look like others, or hide characters', () => {
  it.each([
    ['a zero-width space', 'an\u200bna'],
    ['a right-to-left override', '\u202eanna'],
    ['a C1 control', 'anna\u009b'],
  ])('refuses %s in a user name or an area, writing nothing', async (_case, name) => {
    const users = await count('news_users');
    const areas = await count('news_areas');
    expect(await refusal(cluster.client().register(name, 'password-1'))).toBe('invalid_request');
    const admin = cluster.client();
    await admin.login('root', 'root-password');
    expect(await refusal(admin.addArea(name))).toBe('invalid_request');
    expect([await count('news_users'), await count('news_areas')]).toEqual([users, areas]);
  });

  it('stores names in NFKC and refuses a name that reads the same as a registered one', async () => {
    const carol = cluster.client();
    expect((await carol.register('Ｃａｒｏｌ', 'carol-password')).user.name).toBe('Carol');
    const users = await count('news_users');
    for (const lookalike of ['carol', 'CAROL', 'Саrоl', 'car0l', 'caro1']) {
      expect(await refusal(cluster.client().register(lookalike, 'other-password'))).toBe(
        'name_taken',
      );
    }
    expect(await count('news_users')).toBe(users);
    // Logging in compares the same way; a new, different name still registers.
    expect((await cluster.client().login('carol', 'carol-password')).user.name).toBe('Carol');
    expect((await cluster.client().register('Caroline', 'caroline-pw')).user.name).toBe('Caroline');
  });
});

describe('log out everywhere', () => {
  it('ends every session of the user on agent and nodes; a new login works', async () => {
    const phone = cluster.client();
    await phone.register('eve', 'eve-password');
    await phone.subscribe('news');
    const laptop = cluster.client();
    await laptop.login('eve', 'eve-password');
    const other = cluster.client();
    await other.login('ana', 'ana-password');
    await laptop.logoutEverywhere();
    expect(await refusal(phone.whoami())).toBe('unauthenticated');
    expect(await refusal(phone.read('news'))).toBe('unauthenticated');
    // Another user's sessions are untouched, and eve may log in again at once.
    expect((await other.whoami()).name).toBe('ana');
    await phone.login('eve', 'eve-password');
    expect((await phone.whoami()).name).toBe('eve');
    expect(await phone.read('news')).toEqual(expect.any(Array));
  });

  it("resetting an admin's password with create-admin ends that admin's sessions", async () => {
    const before = cluster.client();
    await before.login('root', 'root-password');
    await createAdmin(cluster.sql, 'root', 'root-password-2');
    expect(await refusal(before.whoami())).toBe('unauthenticated');
    const after = cluster.client();
    expect(await refusal(after.login('root', 'root-password'))).toBe('bad_credentials');
    await after.login('root', 'root-password-2');
    expect((await after.whoami()).admin).toBe(true);
    await createAdmin(cluster.sql, 'root', 'root-password');
  });
});
