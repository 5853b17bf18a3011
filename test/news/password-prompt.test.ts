/**
 * `agora news register` and `login` without --password-stdin, typed into a real terminal (tmux
 * on a private socket): "Password:" stays on screen, nothing typed is echoed, and register asks
 * twice and refuses two different passwords.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { uniqueName } from '../support/backends.js';
import { dropSchema, type NewsCluster, startNewsCluster } from '../support/news.js';
import { waitFor } from '../support/processes.js';
import { Terminal } from '../support/terminal.js';

const schema = uniqueName('news_prompt');
const terminal = new Terminal();
const configFile = join(mkdtempSync(join(tmpdir(), 'agora-news-prompt-')), 'news.json');
let cluster: NewsCluster;
let sessions = 0;

/** Runs `agora news <args>` in a new terminal; returns its session name. */
async function inTerminal(...args: string[]): Promise<string> {
  const session = `s${++sessions}`;
  await terminal.start(
    session,
    { AGORA_NEWS_CONFIG: configFile },
    20,
    'news',
    '--agent',
    cluster.agent,
    ...args,
  );
  return session;
}

const screen = (session: string) => terminal.screen(session);

/** Waits for `text` on the screen, then types `keys` and Enter. */
async function expectThenType(session: string, text: string, keys?: string): Promise<void> {
  let last = '';
  await waitFor(
    async () => {
      last = await screen(session);
      return last.includes(text.trimEnd());
    },
    { timeoutMs: 15_000, message: () => `"${text}" on screen:\n${last}` },
  );
  if (keys === undefined) return;
  await terminal.type(session, keys);
}

beforeAll(async () => {
  cluster = await startNewsCluster(schema, 1);
});

afterAll(async () => {
  await terminal.close();
  await cluster.stop();
  await dropSchema(schema);
});

it('register asks twice, shows both prompts and echoes nothing; login shows its prompt', async () => {
  const register = await inTerminal('register', 'ada');
  await expectThenType(register, 'Password:', 'analytical-1843');
  await expectThenType(register, 'Password again:', 'analytical-1843');
  await expectThenType(register, '[exited 0]');
  const registered = await screen(register);
  expect(registered).toMatch(/^Password:\s*\nPassword again:\s*\nLogged in as ada\.\n/);
  expect(registered).not.toContain('analytical');

  const login = await inTerminal('login', 'ada');
  await expectThenType(login, 'Password:', 'analytical-1843');
  await expectThenType(login, '[exited 0]');
  const loggedIn = await screen(login);
  expect(loggedIn).toMatch(/^Password:\s*\nLogged in as ada\.\n/);
  expect(loggedIn).not.toContain('analytical');
}, 60_000);

it('register refuses two different passwords and creates nothing', async () => {
  const register = await inTerminal('register', 'grace');
  await expectThenType(register, 'Password:', 'cobol-1959');
  await expectThenType(register, 'Password again:', 'cobol-1960');
  await expectThenType(register, '[exited 2]');
  expect(await screen(register)).toContain('agora: the two passwords differ; nothing was created');
  await expect(cluster.client().login('grace', 'cobol-1959')).rejects.toThrow();
}, 60_000);
