/**
 * Every functional requirement of seed 002, end to end: an agent and two nodes on real
 * sockets over a private Postgres schema, driven by the client library and the scripted CLI.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createAdmin } from '../../src/news/accounts.js';
import { callNews } from '../../src/news/frame-client.js';
import { readNewsMany } from '../../src/news/node/news-store.js';
import { NewsError, type NewsView } from '../../src/news/protocol.js';
import { verifyToken } from '../../src/news/tokens.js';
import { testDatabaseUrl, uniqueName } from '../support/backends.js';
import {
  dropSchema,
  type NewsCluster,
  newsTestEnv,
  startNewsCluster,
  testSecret,
} from '../support/news.js';
import { agoraCli } from '../support/processes.js';

const schema = uniqueName('news_fn');
let cluster: NewsCluster;

beforeAll(async () => {
  cluster = await startNewsCluster(schema, 2);
  await createAdmin(cluster.sql, 'root', 'root-password');
});

afterAll(async () => {
  await cluster.stop();
  await dropSchema(schema);
});

async function errorCode(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (error instanceof NewsError) return error.code;
    throw error;
  }
  throw new Error('expected the operation to fail');
}

describe('news, end to end', () => {
  it('lets an admin add areas that every user sees, each served by live nodes', async () => {
    const admin = cluster.client();
    await admin.login('root', 'root-password');
    await admin.addArea('sports');
    await admin.addArea('weather');
    const user = cluster.client();
    await user.register('ana', 'ana-password');
    const areas = await user.areas();
    expect(areas.map((a) => a.name)).toEqual(['sports', 'weather']);
    for (const area of areas) {
      expect(area.subscribed).toBe(false);
      // NEWS_AREA_REPLICAS defaults to 2: both nodes serve each area.
      expect(area.nodes.sort()).toEqual([...cluster.nodes].sort());
    }
  });

  it('subscribes, lists my areas, and ends a subscription', async () => {
    const ana = cluster.client();
    await ana.login('ana', 'ana-password');
    expect(await ana.subscribe('sports')).toMatchObject({ subscribed: true, changed: true });
    expect(await ana.subscribe('sports')).toMatchObject({ changed: false });
    await ana.subscribe('weather');
    expect((await ana.myAreas()).map((a) => a.name)).toEqual(['sports', 'weather']);
    await ana.unsubscribe('weather');
    expect((await ana.myAreas()).map((a) => a.name)).toEqual(['sports']);
    expect((await ana.areas()).find((a) => a.name === 'weather')?.subscribed).toBe(false);
  });

  it('posts only to subscribed areas, and a retried post (same key) is stored once', async () => {
    const ana = cluster.client();
    await ana.login('ana', 'ana-password');
    expect(await errorCode(ana.post('weather', 'rain'))).toBe('not_subscribed');
    const first = await ana.post('sports', 'goal!', 'key-1');
    const again = await ana.post('sports', 'goal!', 'key-1');
    expect(again.id).toBe(first.id);
    expect((await ana.read('sports')).filter((n) => n.text === 'goal!')).toHaveLength(1);
  });

  it('keeps unread state per user and area on the server, across clients', async () => {
    const ana = cluster.client();
    await ana.login('ana', 'ana-password');
    const bob = cluster.client();
    await bob.register('bob', 'bob-password');
    await bob.subscribe('sports');
    const posted = await bob.post('sports', 'match at 5');

    const unread = await ana.read('sports', true);
    expect(unread.map((n) => n.id)).toEqual([posted.id]);
    expect(unread[0]).toMatchObject({ author: 'bob', text: 'match at 5', wasRead: false });
    // Another client of the same user (a new login) sees it read already.
    const anaElsewhere = cluster.client();
    await anaElsewhere.login('ana', 'ana-password');
    expect(await anaElsewhere.read('sports', true)).toEqual([]);
    const all = await anaElsewhere.read('sports');
    expect(all.map((n) => n.text)).toEqual(['goal!', 'match at 5']);
    expect(all.every((n) => n.wasRead)).toBe(true);
    // Bob has not read the area yet, but what he wrote himself was never new to him.
    expect((await bob.read('sports', true)).map((n) => n.text)).toEqual(['goal!']);
  });

  it('reads all of an area, however long, a page of 500 at a time', async () => {
    const admin = cluster.client();
    await admin.login('root', 'root-password');
    await admin.addArea('archive');
    const reader = cluster.client();
    await reader.register('reader', 'reader-password');
    await reader.subscribe('archive');
    // More than two pages, written straight to the table: posting 1,100 one by one adds nothing.
    await cluster.sql.query(
      `INSERT INTO news_items (area_id, author_id, body, client_key)
       SELECT a.id, u.id, 'item ' || n, 'bulk-' || n
       FROM news_areas a, news_users u, generate_series(1, 1100) AS n
       WHERE a.name = 'archive' AND u.name = 'reader'`,
    );
    const all = await reader.read('archive');
    expect(all).toHaveLength(1100);
    expect(new Set(all.map((n) => n.id)).size).toBe(1100);
    expect(all.map((n) => n.text)).toContain('item 1100');
    expect(await reader.read('archive', true)).toEqual([]);
  });

  it('keeps unread an item whose post commits after a later item was read', async () => {
    const admin = cluster.client();
    await admin.login('root', 'root-password');
    await admin.addArea('race');
    const writer = cluster.client();
    await writer.register('writer', 'writer-password');
    await writer.subscribe('race');
    const reader = cluster.client();
    await reader.register('racer', 'racer-password');
    await reader.subscribe('race');
    // The slow post takes its id first and commits last: the read between sees only the fast.
    await cluster.sql.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO news_items (area_id, author_id, body, client_key)
         SELECT a.id, u.id, 'slow', 'slow-1' FROM news_areas a, news_users u
         WHERE a.name = 'race' AND u.name = 'writer'`,
      );
      await writer.post('race', 'fast');
      expect((await reader.read('race', true)).map((n) => n.text)).toEqual(['fast']);
    });
    expect((await reader.read('race', true)).map((n) => n.text)).toEqual(['slow']);
    expect(await reader.read('race', true)).toEqual([]);
  });

  it('reads an area twice in one batch as one read after the other', async () => {
    const admin = cluster.client();
    await admin.login('root', 'root-password');
    await admin.addArea('twice');
    const writer = cluster.client();
    await writer.register('twice-writer', 'writer-password');
    await writer.subscribe('twice');
    await writer.post('twice', 'first');
    await writer.post('twice', 'second');
    const reader = cluster.client();
    await reader.register('twice-reader', 'reader-password');
    await reader.subscribe('twice');
    const read = {
      session: verifyToken(Buffer.from(testSecret), reader.token),
      area: 'twice',
      unreadOnly: true,
      after: undefined,
    };
    const { node } = await reader.route({ area: 'twice' });
    const [once, again] = await readNewsMany(cluster.sql, node, [read, read]);
    const texts = (outcome: typeof once) =>
      outcome !== undefined && 'value' in outcome ? outcome.value.map((n) => n.text) : outcome;
    expect(texts(once)).toEqual(['first', 'second']);
    expect(texts(again)).toEqual([]);
    expect(await reader.read('twice', true)).toEqual([]);
  });

  it('deletes a news item for its author only', async () => {
    const bob = cluster.client();
    await bob.login('bob', 'bob-password');
    const item = await bob.post('sports', 'to be deleted');
    const ana = cluster.client();
    await ana.login('ana', 'ana-password');
    expect(await errorCode(ana.delete(item.id))).toBe('not_author');
    expect((await bob.read('sports')).some((n) => n.id === item.id)).toBe(true);
    expect(await bob.delete(item.id)).toEqual({ deleted: item.id, area: 'sports' });
    expect((await bob.read('sports')).some((n) => n.id === item.id)).toBe(false);
    expect(await errorCode(bob.delete(item.id))).toBe('not_found');
  });

  it('logs out: the token stops working on the agent and on every node', async () => {
    const carl = cluster.client();
    await carl.register('carl', 'carl-password');
    const token = carl.token;
    // Used on every node first, so each has found the token genuine (and remembers that).
    for (const node of cluster.nodes) {
      const before = await callNews(node, { op: 'news', area: 'sports', token }).then(
        () => 'ok',
        (error: unknown) => (error instanceof NewsError ? error.code : 'thrown'),
      );
      expect(['ok', 'wrong_node', 'not_found']).toContain(before);
    }
    await carl.logout();
    expect(await errorCode(callNews(cluster.agent, { op: 'areas', token }))).toBe(
      'unauthenticated',
    );
    for (const node of cluster.nodes) {
      expect(await errorCode(callNews(node, { op: 'news', area: 'sports', token }))).toBe(
        'unauthenticated',
      );
    }
  });

  it('removes an area with its news and subscriptions', async () => {
    const admin = cluster.client();
    await admin.login('root', 'root-password');
    await admin.addArea('temp');
    const ana = cluster.client();
    await ana.login('ana', 'ana-password');
    await ana.subscribe('temp');
    await ana.post('temp', 'short-lived');
    await admin.removeArea('temp');
    expect((await ana.areas()).map((a) => a.name)).not.toContain('temp');
    expect((await ana.myAreas()).map((a) => a.name)).not.toContain('temp');
    expect(await errorCode(ana.read('temp'))).toBe('not_found');
    expect(await errorCode(admin.removeArea('temp'))).toBe('not_found');
  });

  it('a node refuses an area it does not serve with wrong_node', async () => {
    const admin = cluster.client();
    await admin.login('root', 'root-password');
    await cluster.sql.query(
      `DELETE FROM news_assignments WHERE node_address = $1
       AND area_id = (SELECT id FROM news_areas WHERE name = 'weather')`,
      [cluster.nodes[0]],
    );
    const node = cluster.nodes[0] ?? '';
    expect(
      await errorCode(callNews(node, { op: 'news', area: 'weather', token: admin.token })),
    ).toBe('wrong_node');
    // The client goes back to the agent and reaches a node that serves it.
    expect(await admin.read('weather')).toEqual([]);
  });
});

describe('the scripted client (agora news ...)', () => {
  const run = promisify(execFile);
  const configFile = join(mkdtempSync(join(tmpdir(), 'agora-news-')), 'news.json');
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    run(process.execPath, [agoraCli, 'news', '--agent', cluster.agent, ...args], {
      env: {
        ...process.env,
        ...newsTestEnv(schema),
        AGORA_NEWS_CONFIG: configFile,
        DATABASE_URL: testDatabaseUrl,
        ...extra,
      },
    });

  it('create-admin stores the name as login reads it, so " spaced " can log in as "spaced"', async () => {
    const made = await cli(['--json', 'create-admin', ' spaced-admin '], {
      AGORA_NEWS_PASSWORD: 'spaced-password',
    });
    expect(JSON.parse(made.stdout)).toMatchObject({ name: 'spaced-admin', admin: true });
    const admin = cluster.client();
    expect((await admin.login('spaced-admin', 'spaced-password')).user.admin).toBe(true);
    await expect(
      cli(['create-admin', 'bad\u200bname'], { AGORA_NEWS_PASSWORD: 'spaced-password' }),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/bad name: .*invisible/) as unknown });
  });

  it('logout --everywhere ends the sessions of every device', async () => {
    await cli(['register', 'two-devices'], { AGORA_NEWS_PASSWORD: 'two-devices-pw' });
    const other = cluster.client();
    await other.login('two-devices', 'two-devices-pw');
    expect((await cli(['logout', '--everywhere'])).stdout).toBe('Logged out everywhere.\n');
    await expect(other.whoami()).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('logs in, posts and reads with --json, keeping the session in AGORA_NEWS_CONFIG', async () => {
    await cli(['create-admin', 'cli-admin'], { AGORA_NEWS_PASSWORD: 'cli-admin-password' });
    const login = await cli(['--json', 'login', 'cli-admin'], {
      AGORA_NEWS_PASSWORD: 'cli-admin-password',
    });
    expect(JSON.parse(login.stdout)).toMatchObject({ user: { name: 'cli-admin', admin: true } });
    const admin = cluster.client();
    await admin.login('cli-admin', 'cli-admin-password');
    await admin.addArea('cli area');
    await admin.subscribe('cli area');
    const posted = JSON.parse(
      (await cli(['--json', 'post', 'cli area', 'from the CLI'])).stdout,
    ) as NewsView;
    expect(posted).toMatchObject({ text: 'from the CLI', author: 'cli-admin' });
    // What you wrote is not news to you: never among your unread, never "(new)".
    const unread = JSON.parse(
      (await cli(['--json', 'read', 'cli area', '--unread'])).stdout,
    ) as NewsView[];
    expect(unread).toEqual([]);
    const all = JSON.parse((await cli(['--json', 'read', 'cli area'])).stdout) as NewsView[];
    expect(all).toMatchObject([{ id: posted.id, wasRead: true }]);
    expect((await cli(['read', 'cli area'])).stdout).not.toContain('(new)');
    const stored = JSON.parse(readFileSync(configFile, 'utf8')) as { token: string };
    expect((await cli(['logout'])).stdout).toBe('Logged out.\n');
    expect(existsSync(configFile)).toBe(false);
    // The session is over on the server too, not only forgotten here.
    expect(await errorCode(callNews(cluster.agent, { op: 'areas', token: stored.token }))).toBe(
      'unauthenticated',
    );
  }, 90_000);

  it('reads the password from --password-stdin and refuses a wrong one', async () => {
    const child = execFile(
      process.execPath,
      [agoraCli, 'news', '--agent', cluster.agent, 'login', 'cli-admin', '--password-stdin'],
      { env: { ...process.env, AGORA_NEWS_CONFIG: configFile } },
    );
    child.stdin?.end('not-the-password\n');
    const [code, stderr] = await new Promise<[number | null, string]>((resolve) => {
      let text = '';
      child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.once('close', (exit) => {
        resolve([exit, text]);
      });
    });
    expect(code).toBe(1);
    expect(stderr).toContain('bad_credentials');
  });
});
