/**
 * The interactive console menu of seed 002's client: log in or register (the password asked
 * twice), then numbered operations (admins also add and remove areas). Runs on node:readline/promises; the session
 * is kept in the same config file as the scripted subcommands.
 */
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';

import { NewsError, type UserView } from '../protocol.js';
import { newsClientTls } from '../tls.js';
import { NewsClient } from './client.js';
import { clearClientConfig, readClientConfig, writeClientConfig } from './config.js';
import { formatAreas, formatNews, plural } from './output.js';

export interface ConsoleOptions {
  agent: string;
  configFile: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

const userMenu = `
  1  see areas          2  subscribe          3  unsubscribe        4  my areas
  5  get news           6  add news           7  delete news        8  log out`;
const adminMenu = '  9  add area          10  remove area   (admin)';
const quitLine = '  0  quit';

/** Closing the input (Ctrl-D, end of a script) ends the console like "quit". */
class InputClosed extends Error {}

export async function runConsole(options: ConsoleOptions): Promise<void> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const isTerminal = (input as { isTTY?: boolean }).isTTY === true;
  // Readline echoes through this stream; muting it hides a password as it is typed.
  let muted = false;
  const echo = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) output.write(chunk);
      done();
    },
  });
  Object.defineProperty(echo, 'columns', { get: () => (output as { columns?: number }).columns });
  const rl = createInterface({ input, output: echo, terminal: isTerminal });
  // Lines are queued as they come: piped input arrives faster than questions are asked.
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let closed = false;
  rl.on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter === undefined) lines.push(line);
    else waiter(line);
  });
  rl.on('close', () => {
    closed = true;
    for (const waiter of waiting.splice(0)) waiter(undefined);
  });
  const say = (text: string) => output.write(`${text}\n`);
  const ask = async (question: string): Promise<string> => {
    rl.setPrompt(question);
    rl.prompt();
    const queued = lines.shift();
    const line =
      queued ??
      (closed
        ? undefined
        : await new Promise<string | undefined>((resolve) => waiting.push(resolve)));
    if (line === undefined) throw new InputClosed();
    if (!isTerminal) output.write('\n');
    return line.trim();
  };
  const askHidden = async (question: string): Promise<string> => {
    if (!isTerminal) return ask(question);
    output.write(question);
    muted = true;
    try {
      return await ask('');
    } finally {
      muted = false;
      output.write('\n');
    }
  };

  const stored = await readClientConfig(options.configFile);
  const client = new NewsClient({
    agent: options.agent,
    token: stored.token,
    tls: newsClientTls(process.env),
  });
  say('Agora news: the news subscription system.');
  try {
    for (;;) {
      const user = await currentUser(client);
      const session = user ?? (await logIn(client, ask, askHidden, say, options.configFile));
      if (session === undefined) break;
      const next = await menu(client, session, ask, say);
      if (next === 'quit') break;
      await clearClientConfig(options.configFile);
    }
  } catch (error) {
    if (!(error instanceof InputClosed)) throw error;
  } finally {
    rl.close();
  }
  say('Bye.');
}

async function currentUser(client: NewsClient): Promise<UserView | undefined> {
  if (client.token === undefined) return undefined;
  try {
    return await client.whoami();
  } catch {
    client.token = undefined;
    return undefined;
  }
}

type Ask = (question: string) => Promise<string>;
type Say = (text: string) => void;

async function logIn(
  client: NewsClient,
  ask: Ask,
  askHidden: Ask,
  say: Say,
  configFile: string,
): Promise<UserView | undefined> {
  for (;;) {
    say('\n  1  log in            2  register           0  quit');
    const choice = await ask('Choice: ');
    if (choice === '0') return undefined;
    if (choice !== '1' && choice !== '2') {
      say('Choose 1, 2 or 0.');
      continue;
    }
    const name = await ask('Name: ');
    const password = await askHidden('Password: ');
    // A new account's password is typed twice, as `agora news register` asks it.
    if (choice === '2' && (await askHidden('Password again: ')) !== password) {
      say('The two passwords differ; nothing was created.');
      continue;
    }
    try {
      const result =
        choice === '1' ? await client.login(name, password) : await client.register(name, password);
      await writeClientConfig(configFile, {
        token: result.token,
        user: { name: result.user.name, admin: result.user.admin },
      });
      say(`Welcome, ${result.user.name}${result.user.admin ? ' (admin)' : ''}.`);
      return result.user;
    } catch (error) {
      say(describe(error));
    }
  }
}

async function menu(
  client: NewsClient,
  user: UserView,
  ask: Ask,
  say: Say,
): Promise<'quit' | 'logout'> {
  for (;;) {
    say(`\nLogged in as ${user.name}${user.admin ? ' (admin)' : ''}.${userMenu}`);
    if (user.admin) say(adminMenu);
    say(quitLine);
    const choice = await ask('Choice: ');
    try {
      switch (choice) {
        case '1':
          say(formatAreas(await client.areas()));
          break;
        case '2': {
          const area = await ask('Area to subscribe to: ');
          await client.subscribe(area);
          say(`Subscribed to ${area}.`);
          break;
        }
        case '3': {
          const area = await ask('Area to unsubscribe from: ');
          await client.unsubscribe(area);
          say(`Unsubscribed from ${area}.`);
          break;
        }
        case '4':
          say(formatAreas(await client.myAreas()));
          break;
        case '5': {
          const area = await ask('Area: ');
          const unread = /^y(es)?$/i.test(await ask('Only unread news? [y/N]: '));
          say(formatNews(await client.read(area, unread)));
          break;
        }
        case '6': {
          const area = await ask('Area: ');
          const text = await ask('Text: ');
          const item = await client.post(area, text);
          say(`Posted #${item.id} to ${area}.`);
          break;
        }
        case '7': {
          const id = (await ask('News id: ')).replace(/^#/, '');
          await client.delete(id);
          say(`Deleted #${id}.`);
          break;
        }
        case '8': {
          const ended = await endSession(client);
          say(ended.text);
          if (ended.loggedOut) return 'logout';
          break;
        }
        case '0':
          return 'quit';
        case '9':
        case '10': {
          if (!user.admin) {
            say('Only admins may add or remove areas.');
            break;
          }
          if (choice === '9') {
            const name = await ask('New area: ');
            await client.addArea(name);
            say(`Added area ${name}.`);
            break;
          }
          const name = await ask('Area to remove: ');
          const news = (await client.areas()).find((area) => area.name === name)?.news ?? 0;
          if (news > 0) {
            const sure = await ask(
              `${name} holds ${plural(news, 'news item')}; remove it with them? [y/N]: `,
            );
            if (!/^y(es)?$/i.test(sure)) {
              say(`Kept ${name}.`);
              break;
            }
          }
          await client.removeArea(name);
          say(`Removed area ${name}.`);
          break;
        }
        default:
          say('Unknown choice; pick a number from the menu.');
      }
    } catch (error) {
      if (error instanceof InputClosed) throw error;
      say(describe(error));
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof NewsError) return `Error: ${error.message} (${error.code})`;
  throw error;
}

/**
 * The menu's "log out": over once the agent revoked the session, or when the session had
 * ended already (expired, revoked). When the agent cannot be reached the session is still
 * valid for up to its lifetime, so the console says so and keeps it, for a retry.
 */
/** The agent's answers that say the session is over already. */
const sessionOver = ['unauthenticated', 'token_expired'];

export async function endSession(
  client: Pick<NewsClient, 'logout'>,
): Promise<{ loggedOut: boolean; text: string }> {
  try {
    await client.logout();
    return { loggedOut: true, text: 'Logged out.' };
  } catch (error) {
    if (error instanceof NewsError && sessionOver.includes(error.code)) {
      return { loggedOut: true, text: 'Logged out (the session had ended already).' };
    }
    const reason = error instanceof NewsError ? describe(error) : `Error: ${String(error)}`;
    return {
      loggedOut: false,
      text:
        `Not logged out: ${reason}. The session is still valid, so you stay logged in; ` +
        'choose 8 again once the agent answers.',
    };
  }
}
