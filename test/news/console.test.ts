/**
 * The interactive console of `agora news`, driven through a real terminal (tmux on a private
 * socket): register, subscribe, post, read unread; the password is never echoed.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { createAdmin } from '../../src/news/accounts.js';
import { uniqueName } from '../support/backends.js';
import { dropSchema, type NewsCluster, startNewsCluster } from '../support/news.js';
import { waitFor } from '../support/processes.js';
import { Terminal } from '../support/terminal.js';

const schema = uniqueName('news_tty');
const terminal = new Terminal();
const session = 'news';
const configFile = join(mkdtempSync(join(tmpdir(), 'agora-news-tty-')), 'news.json');
let cluster: NewsCluster;

const screen = () => terminal.screen(session);

/** The interactive console, keeping its session in `config`. */
const startConsole = (config: string) =>
  terminal.start(session, { AGORA_NEWS_CONFIG: config }, 50, 'news', '--agent', cluster.agent);

/** Waits until the screen shows `text` `times` times in all, then types `keys` and Enter. */
async function expectThenType(text: string, times: number, keys?: string): Promise<void> {
  let last = '';
  await waitFor(
    async () => {
      last = await screen();
      // capture-pane drops trailing spaces, so prompts are matched without theirs.
      return last.split(text.trimEnd()).length - 1 >= times;
    },
    { timeoutMs: 15_000, message: () => `"${text}" x${times} on screen:\n${last}` },
  );
  if (keys !== undefined) await terminal.type(session, keys);
}

beforeAll(async () => {
  cluster = await startNewsCluster(schema, 2);
  await createAdmin(cluster.sql, 'root', 'root-password');
  const admin = cluster.client();
  await admin.login('root', 'root-password');
  await admin.addArea('science');
  await admin.subscribe('science');
});

afterAll(async () => {
  await terminal.close();
  await cluster.stop();
  await dropSchema(schema);
});

it('registers, subscribes, posts and reads unread news through the menu', async () => {
  await startConsole(configFile);
  // A new account's password is asked twice; two that differ create nothing.
  await expectThenType('Choice: ', 1, '2');
  await expectThenType('Name: ', 1, 'marie curie');
  await expectThenType('Password: ', 1, 'radium-1898');
  await expectThenType('Password again: ', 1, 'radium-1899');
  await expectThenType('The two passwords differ; nothing was created.', 1);
  await expectThenType('Choice: ', 2, '2');
  await expectThenType('Name: ', 2, 'marie curie');
  await expectThenType('Password: ', 2, 'radium-1898');
  await expectThenType('Password again: ', 2, 'radium-1898');
  await expectThenType('Logged in as marie curie.', 1);
  await expectThenType('Choice: ', 3, '2');
  await expectThenType('Area to subscribe to: ', 1, 'science');
  await expectThenType('Subscribed to science.', 1);
  await expectThenType('Choice: ', 4, '6');
  await expectThenType('Area: ', 1, 'science');
  await expectThenType('Text: ', 1, 'Polonium found');
  await expectThenType('Posted #', 1);
  const admin = cluster.client();
  await admin.login('root', 'root-password');
  await admin.post('science', 'Radium found');
  await expectThenType('Choice: ', 5, '5');
  await expectThenType('Area: ', 2, 'science');
  await expectThenType('Only unread news? [y/N]: ', 1, 'y');
  await expectThenType('root (new)', 1);
  await expectThenType('Choice: ', 6, '5');
  await expectThenType('Area: ', 3, 'science');
  await expectThenType('Only unread news? [y/N]: ', 2, 'y');
  await expectThenType('No news.', 1);
  await expectThenType('Choice: ', 7, '0');
  await expectThenType('[exited 0]', 1);

  const text = await screen();
  expect(text).toContain('Radium found');
  // What you wrote yourself is never new to you, and never among your unread.
  expect(text).not.toContain('marie curie (new)');
  expect(text).not.toMatch(/marie curie\s*\n\s+Polonium found/);
  // The menu is numbered without gaps: 1 to 8 and 0 for a user (9 and 10 are an admin's).
  expect(text).toMatch(/8 {2}log out\n {2}0 {2}quit/);
  expect(text).not.toContain('radium-189');
  const stored = JSON.parse(readFileSync(configFile, 'utf8')) as { user: { name: string } };
  expect(stored.user.name).toBe('marie curie');
}, 60_000);

it('asks before removing an area that holds news, and keeps it on no', async () => {
  const rootConfig = join(mkdtempSync(join(tmpdir(), 'agora-news-tty-')), 'news.json');
  await terminal.kill(session);
  await startConsole(rootConfig);
  await expectThenType('Choice: ', 1, '1');
  await expectThenType('Name: ', 1, 'root');
  await expectThenType('Password: ', 1, 'root-password');
  await expectThenType('10  remove area', 1);
  await expectThenType('Choice: ', 2, '10');
  await expectThenType('Area to remove: ', 1, 'science');
  await expectThenType('remove it with them? [y/N]: ', 1, 'n');
  await expectThenType('Kept science.', 1);
  await expectThenType('Choice: ', 3, '10');
  await expectThenType('Area to remove: ', 2, 'science');
  await expectThenType('remove it with them? [y/N]: ', 2, 'y');
  await expectThenType('Removed area science.', 1);
  await expectThenType('Choice: ', 4, '0');
  await expectThenType('[exited 0]', 1);
  expect(await screen()).toMatch(/science holds \d+ news items?; remove it with them/);
}, 60_000);
