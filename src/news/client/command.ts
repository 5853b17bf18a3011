/**
 * `agora news`: the console menu with no subcommand, and the same operations as scripted
 * subcommands (`--json` for machines). The session token is kept in the user config file.
 */
import type { Command } from 'commander';

import { DataDirLockedError, UsageError } from '../../platform/errors.js';
import { loadPlatformConfig } from '../../platform/platform-settings.js';
import { openSql } from '../../platform/sql/index.js';
import { migrate } from '../../platform/sql/migrations.js';
import { createAdmin } from '../accounts.js';
import { newsMigrations } from '../migrations.js';
import { userNameField } from '../names.js';
import { limits, type LoginResult, NewsError, newsSystem, passwordField } from '../protocol.js';
import { newsClientTls } from '../tls.js';
import { defaultAgentAddress, NewsClient } from './client.js';
import { clearClientConfig, configPath, readClientConfig, writeClientConfig } from './config.js';
import { runConsole } from './console.js';
import { formatAreas, formatNews, plural } from './output.js';
import { confirm, readNewPassword, readPassword } from './password-input.js';

interface NewsOptions {
  agent: string;
  json?: boolean;
}

export function addNewsCommands(program: Command): Command {
  const news = program
    .command('news')
    .description(
      'The news system of seed 002: with no subcommand, an interactive console menu; the subcommands do one operation each.',
    )
    .option(
      '--agent <host:port>',
      'the news agent (AGORA_NEWS_AGENT_URL sets the default)',
      process.env.AGORA_NEWS_AGENT_URL ?? defaultAgentAddress,
    )
    .option('--json', 'print JSON instead of text')
    .action(async () => {
      const options = news.opts<NewsOptions>();
      await runConsole({ agent: options.agent, configFile: configPath() });
    });

  /** Runs one operation with the stored session; prints its result as text or JSON. */
  const run =
    <A extends unknown[]>(
      work: (client: NewsClient, ...args: A) => Promise<{ value: unknown; text: string }>,
    ) =>
    async (...args: A) => {
      const options = news.opts<NewsOptions>();
      const stored = await readClientConfig(configPath());
      const client = new NewsClient({
        agent: options.agent,
        token: stored.token,
        tls: newsClientTls(process.env),
      });
      try {
        const { value, text } = await work(client, ...args);
        process.stdout.write(options.json === true ? `${JSON.stringify(value)}\n` : `${text}\n`);
      } catch (error) {
        if (!(error instanceof NewsError)) throw error;
        if (options.json === true) {
          process.stdout.write(
            `${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`,
          );
        } else {
          process.stderr.write(`agora news: ${error.message} (${error.code})\n`);
        }
        process.exitCode = 1;
      }
    };

  const keepSession = async (result: LoginResult) => {
    await writeClientConfig(configPath(), {
      token: result.token,
      user: { name: result.user.name, admin: result.user.admin },
    });
    const role = result.user.admin ? ' (admin)' : '';
    return { value: result, text: `Logged in as ${result.user.name}${role}.` };
  };

  news
    .command('register')
    .description('Create an account and log in; the password as for login (a prompt asks twice).')
    .argument('<name>', `user name, up to ${limits.nameChars} characters`)
    .option('--password-stdin', 'read the password from standard input')
    .action(
      run(async (client, name: string, options: { passwordStdin?: boolean }) =>
        keepSession(await client.register(name, await readNewPassword(options))),
      ),
    );

  news
    .command('login')
    .description(
      'Log in; the password from --password-stdin, AGORA_NEWS_PASSWORD, or a prompt. The session is kept in AGORA_NEWS_CONFIG (default ~/.config/agora/news.json).',
    )
    .argument('<name>', 'user name')
    .option('--password-stdin', 'read the password from standard input')
    .action(
      run(async (client, name: string, options: { passwordStdin?: boolean }) =>
        keepSession(await client.login(name, await readPassword(options))),
      ),
    );

  news
    .command('logout')
    .description(
      'End this session on every agent and node and forget it here; with --everywhere, end every session of this user (every device).',
    )
    .option('--everywhere', 'end all sessions of this user, not only this one')
    .action(
      run(async (client, options: { everywhere?: boolean }) => {
        if (client.token !== undefined) {
          const ending = options.everywhere === true ? client.logoutEverywhere() : client.logout();
          await ending.catch((error: unknown) => {
            // An expired or revoked session is over already; forgetting it is all that is left.
            if (!(error instanceof NewsError) || error.code === 'unavailable') throw error;
          });
        }
        await clearClientConfig(configPath());
        return {
          value: { loggedOut: true, everywhere: options.everywhere === true },
          text: options.everywhere === true ? 'Logged out everywhere.' : 'Logged out.',
        };
      }),
    );

  news
    .command('whoami')
    .description('Who the stored session belongs to.')
    .action(
      run(async (client) => {
        const user = await client.whoami();
        return { value: user, text: `${user.name}${user.admin ? ' (admin)' : ''}` };
      }),
    );

  news
    .command('areas')
    .description('Every area, whether you are subscribed, and the nodes serving it.')
    .action(
      run(async (client) => {
        const areas = await client.areas();
        return { value: areas, text: formatAreas(areas) };
      }),
    );

  news
    .command('my-areas')
    .description('The areas you are subscribed to.')
    .action(
      run(async (client) => {
        const areas = await client.myAreas();
        return { value: areas, text: formatAreas(areas) };
      }),
    );

  news
    .command('subscribe')
    .description('Subscribe to an area.')
    .argument('<area>')
    .action(
      run(async (client, area: string) => ({
        value: await client.subscribe(area),
        text: `Subscribed to ${area}.`,
      })),
    );

  news
    .command('unsubscribe')
    .description('End a subscription.')
    .argument('<area>')
    .action(
      run(async (client, area: string) => ({
        value: await client.unsubscribe(area),
        text: `Unsubscribed from ${area}.`,
      })),
    );

  news
    .command('read')
    .description('The news of an area, oldest first; what is shown is marked read.')
    .argument('<area>')
    .option('--unread', 'only news you have not read yet')
    .action(
      run(async (client, area: string, options: { unread?: boolean }) => {
        const items = await client.read(area, options.unread === true);
        return { value: items, text: formatNews(items) };
      }),
    );

  news
    .command('post')
    .description('Add a news item to an area you are subscribed to.')
    .argument('<area>')
    .argument('<text>')
    .action(
      run(async (client, area: string, text: string) => {
        const item = await client.post(area, text);
        return { value: item, text: `Posted #${item.id} to ${area}.` };
      }),
    );

  news
    .command('delete')
    .description('Delete a news item you wrote.')
    .argument('<id>', 'the news id, as `read` shows it (#id)')
    .action(
      run(async (client, id: string) => {
        const result = await client.delete(id.replace(/^#/, ''));
        return { value: result, text: `Deleted #${result.deleted}.` };
      }),
    );

  const admin = news.command('admin').description('Admin operations on areas.');
  admin
    .command('add-area')
    .description('Add an area (admins only).')
    .argument('<name>')
    .action(
      run(async (client, name: string) => ({
        value: await client.addArea(name),
        text: `Added area ${name}.`,
      })),
    );
  admin
    .command('remove-area')
    .description(
      'Remove an area with its news and subscriptions (admins only); one that holds news asks first, or needs --yes without a terminal.',
    )
    .argument('<name>')
    .option('--yes', 'remove it even if it holds news, without asking')
    .action(
      run(async (client, name: string, options: { yes?: boolean }) => {
        const news = (await client.areas()).find((area) => area.name === name)?.news ?? 0;
        if (news > 0 && options.yes !== true) {
          const holds = `${name} holds ${plural(news, 'news item')}`;
          if (!process.stdin.isTTY)
            throw new UsageError(`${holds}: add --yes to remove it with them`);
          if (!(await confirm(`${holds}; remove it with them? [y/N]: `))) {
            return { value: { removed: false }, text: `Kept ${name}.` };
          }
        }
        return { value: await client.removeArea(name), text: `Removed area ${name}.` };
      }),
    );

  news
    .command('create-admin')
    .description(
      'Create an admin, or give an existing admin a new password (which logs that admin out everywhere), directly in the database at DATABASE_URL (else the embedded one under AGORA_DATA_DIR). It never makes an ordinary user an admin. The name and password follow the login rules; the name is stored as login reads it (trimmed, NFKC).',
    )
    .argument('<name>')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (name: string, options: { passwordStdin?: boolean }) => {
      let stored: string;
      try {
        stored = userNameField({ v: 1, id: 0, op: 'create-admin', name });
      } catch (error) {
        throw new UsageError(`bad name: ${(error as Error).message}`);
      }
      const config = loadPlatformConfig(process.env);
      const sql = await openSql({
        url: config.databaseUrl,
        dataDir: config.dataDir,
        schema: config.databaseSchema,
      }).catch((error: unknown) => {
        if (!(error instanceof DataDirLockedError)) throw error;
        // Its database is open in that process; a second writer would corrupt it.
        throw new UsageError(
          `Agora is running on ${error.directory} (process ${error.pid}) and holds its database: log in as the admin its first start printed, or stop it and run create-admin again`,
        );
      });
      try {
        // Asked only once the database is ours: a refusal comes before the prompt.
        const password = await readNewPassword(options);
        try {
          passwordField({ v: 1, id: 0, op: 'create-admin', password });
        } catch (error) {
          throw new UsageError(`bad password: ${(error as Error).message}`);
        }
        await migrate(sql, newsSystem, newsMigrations);
        const user = await createAdmin(sql, stored, password);
        const json = news.opts<NewsOptions>().json === true;
        process.stdout.write(json ? `${JSON.stringify(user)}\n` : `Admin ${user.name} is ready.\n`);
      } finally {
        await sql.close();
      }
    });

  return news;
}
