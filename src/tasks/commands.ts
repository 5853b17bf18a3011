/**
 * `agora tasks ...`: the seed's console program (add, list, done) and its client emulator, as
 * commands against the task API at --url (default AGORA_TASKS_URL or port 9000).
 */
import { Command, InvalidArgumentError, Option } from 'commander';

import { formatTable } from '../platform/table.js';
import type { TasksClient } from './client.js';
import { type TaskStatus, taskStatuses, tokenPattern } from './protocol.js';

function defaultUrl(env: NodeJS.ProcessEnv): string {
  return env.AGORA_TASKS_URL ?? 'http://127.0.0.1:9000';
}

function parseUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return raw;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('expected an http:// or https:// URL.');
}

function wholeNumber(min: number, max: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return value;
  };
}

function taskId(raw: string): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > Number.MAX_SAFE_INTEGER) {
    throw new InvalidArgumentError(
      'a task id is a whole number such as 42, as the id column of `agora tasks list` shows.',
    );
  }
  return value;
}

function parseToken(raw: string): string {
  if (!new RegExp(tokenPattern).test(raw)) {
    throw new InvalidArgumentError('expected 1 to 128 letters, digits, or . _ : -');
  }
  return raw;
}

function urlOption(): Option {
  return new Option('--url <url>', 'the tasks service')
    .default(defaultUrl(process.env))
    .argParser(parseUrl);
}

/** Runs a command against the service; an unreachable service or an error answer is one line. */
async function againstService(
  url: string,
  work: (client: TasksClient) => Promise<void>,
  clientId?: string,
) {
  // undici loads when a tasks command runs, not with every `agora` command (~0.2 s).
  const { TasksApiError, TasksClient } = await import('./client.js');
  const client = new TasksClient(url, { clientId });
  try {
    await work(client);
  } catch (error) {
    const reason =
      error instanceof TasksApiError
        ? `the service refused: ${error.message} (${error.status} ${error.code})`
        : `cannot reach the tasks service at ${url}: ${errorText(error)}`;
    process.stderr.write(`agora: ${reason}\n`);
    process.exitCode = 1;
  } finally {
    await client.close();
  }
}

export function addTasksCommands(program: Command): Command {
  const tasks = program
    .command('tasks')
    .description(
      "The task system of seed 003: the console program's commands and the client emulator.",
    );

  tasks
    .command('emulate')
    .description(
      "The seed's client emulator: each client sends its tasks concurrently (idempotency keys, " +
        'retries on connection errors and 5xx), then every acknowledged task is checked to be ' +
        'stored exactly once. Exit code 1 on any loss, duplicate or unacknowledged task.',
    )
    .addOption(
      new Option('--clients <n>', 'clients sending side by side')
        .default(2)
        .argParser(wholeNumber(1, 100)),
    )
    .addOption(
      new Option('--tasks <n>', 'tasks per client')
        .default(100)
        .argParser(wholeNumber(1, 1_000_000)),
    )
    .addOption(
      new Option('--concurrency <n>', 'requests in flight per client')
        .default(10)
        .argParser(wholeNumber(1, 1_000)),
    )
    .addOption(
      new Option('--max-attempts <n>', 'attempts per task before it counts as failed')
        .default(20)
        .argParser(wholeNumber(1, 1_000)),
    )
    .addOption(
      new Option(
        '--client-prefix <name>',
        'clients are <name>-1, <name>-2, ... (default: random)',
      ).argParser(parseToken),
    )
    .addOption(urlOption())
    .action(
      async (options: {
        clients: number;
        tasks: number;
        concurrency: number;
        maxAttempts: number;
        clientPrefix?: string;
        url: string;
      }) => {
        try {
          const { runEmulation } = await import('./emulate-run.js');
          process.exitCode = await runEmulation({
            ...options,
            stdout: process.stdout,
            stderr: process.stderr,
          });
        } catch (error) {
          process.stderr.write(`agora: the emulation could not finish: ${errorText(error)}\n`);
          process.exitCode = 1;
        }
      },
    );

  tasks
    .command('add')
    .description('Add a task (the seed\'s "agregar tarea") and print its id.')
    .argument('<title>', 'what the task is')
    .option('--description <text>', 'more about it')
    .addOption(new Option('--client <id>', 'sent as X-Client-Id').argParser(parseToken))
    .addOption(urlOption())
    .action(
      async (title: string, options: { description?: string; client?: string; url: string }) => {
        await againstService(
          options.url,
          async (client) => {
            const { task } = await client.create(title, { description: options.description });
            process.stdout.write(`added task ${task.id}: ${task.title}\n`);
          },
          options.client,
        );
      },
    );

  tasks
    .command('list')
    .description('List tasks, newest first (the seed\'s "listar tareas").')
    .addOption(new Option('--status <status>', 'only pending or done tasks').choices(taskStatuses))
    .addOption(new Option('--client <id>', 'only tasks this client sent').argParser(parseToken))
    .addOption(
      new Option('--limit <n>', 'at most this many').default(50).argParser(wholeNumber(1, 1_000)),
    )
    .option('--json', 'print the JSON page')
    .addOption(urlOption())
    .action(
      async (options: {
        status?: TaskStatus;
        client?: string;
        limit: number;
        json?: boolean;
        url: string;
      }) => {
        await againstService(options.url, async (client) => {
          const page = await client.list({
            status: options.status,
            client: options.client,
            limit: options.limit,
          });
          if (options.json === true) {
            process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
            return;
          }
          if (page.tasks.length === 0) {
            const filtered = options.status !== undefined || options.client !== undefined;
            process.stdout.write(
              filtered
                ? 'No tasks match these filters.\n'
                : 'No tasks yet. Add one with: agora tasks add "<title>"\n',
            );
            return;
          }
          const rows = page.tasks.map((task) => [
            String(task.id),
            task.status,
            task.title,
            task.client_id ?? '-',
            task.created_at,
          ]);
          process.stdout.write(
            `${formatTable(['id', 'status', 'title', 'client', 'created'], rows)}\n`,
          );
        });
      },
    );

  tasks
    .command('done')
    .description('Mark a task done.')
    .argument('<id>', 'the task id', taskId)
    // The one error says what an id is; commander's "(add --help for usage)" adds nothing.
    .showHelpAfterError(false)
    .addOption(urlOption())
    .action(async (id: number, options: { url: string }) => {
      await againstService(options.url, async (client) => {
        const task = await client.update(id, { done: true });
        process.stdout.write(`task ${task.id} is done: ${task.title}\n`);
      });
    });

  return tasks;
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code)
      ? `${code} ${error.message}`
      : error.message;
  }
  return String(error);
}
