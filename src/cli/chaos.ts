/**
 * `agora chaos ...`: the console's actions from a shell, for scripts and lessons. Each
 * subcommand is one request to the console of a running `agora up --distributed`, with the
 * token it printed (AGORA_CONSOLE_TOKEN or --token).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';

import { UsageError } from '../platform/errors.js';

interface ChaosOptions {
  console: string;
  token?: string;
}

function defaultConsoleUrl(): string {
  return (
    process.env.AGORA_CONSOLE_URL ?? `http://127.0.0.1:${process.env.AGORA_CONSOLE_PORT ?? '7070'}`
  );
}

function positiveInteger(raw: string): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1)
    throw new InvalidArgumentError('expected a whole number from 1.');
  return value;
}

function positiveNumber(raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError('expected a number above 0.');
  return value;
}

/** Sends one action; prints the console's answer, or its error in one line (exit 1). */
async function act(options: ChaosOptions, path: string, body?: unknown): Promise<unknown> {
  const token = options.token ?? process.env.AGORA_CONSOLE_TOKEN;
  if (token === undefined) {
    throw new UsageError('actions need the console token: pass --token or set AGORA_CONSOLE_TOKEN');
  }
  let response: Response;
  try {
    response = await fetch(new URL(path, options.console), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
    throw new UsageError(
      `no console answers at ${options.console} (${cause}); is agora up running?`,
    );
  }
  const answer = (await response.json()) as { error?: { message?: string } };
  if (!response.ok)
    throw new UsageError(answer.error?.message ?? `the console answered ${response.status}`);
  return answer;
}

async function print(work: Promise<unknown>): Promise<void> {
  process.stdout.write(`${JSON.stringify(await work)}\n`);
}

export function addChaosCommands(program: Command): void {
  const chaos = program
    .command('chaos')
    .description(
      'Break a running `agora up --distributed` on purpose, through its console: kill, stop, restart and scale replicas, cut a service off from a backend, run a load.',
    );
  const common = (command: Command) =>
    command
      .addOption(
        new Option(
          '--console <url>',
          'the console (AGORA_CONSOLE_URL, or 127.0.0.1:AGORA_CONSOLE_PORT)',
        ).default(defaultConsoleUrl()),
      )
      .option('--token <token>', 'the token agora up printed (default: AGORA_CONSOLE_TOKEN)');

  common(
    chaos
      .command('kill')
      .description('SIGKILL one process (as labelled in the console: worker, worker#2)'),
  )
    .argument('<process>')
    .action((label: string, options: ChaosOptions) =>
      print(act(options, `/api/processes/${encodeURIComponent(label)}/kill?signal=SIGKILL`)),
    );
  common(chaos.command('stop').description('SIGTERM one process: a graceful stop'))
    .argument('<process>')
    .action((label: string, options: ChaosOptions) =>
      print(act(options, `/api/processes/${encodeURIComponent(label)}/kill?signal=SIGTERM`)),
    );
  common(chaos.command('restart').description('stop a process if it runs, then start it again'))
    .argument('<process>')
    .action((label: string, options: ChaosOptions) =>
      print(act(options, `/api/processes/${encodeURIComponent(label)}/restart`)),
    );
  for (const [name, delta, what] of [
    ['add', 1, 'add one replica of a service (a cluster service gets one more worker)'],
    ['remove', -1, 'remove the newest replica of a service'],
  ] as const) {
    common(chaos.command(name).description(what))
      .argument('<service>')
      .action((service: string, options: ChaosOptions) =>
        print(act(options, `/api/services/${encodeURIComponent(service)}/scale`, { delta })),
      );
  }
  common(
    chaos
      .command('fault')
      .description(
        'cut a service off from a backend (needs agora up --distributed --faults): reset its connections, partition it, or add latency',
      ),
  )
    .argument('<service>')
    .argument('<backend>', 'broker (Redis) or sql (Postgres)')
    .addOption(
      new Option('--kind <kind>', 'cut (connections reset), partition (never answered) or latency')
        .choices(['cut', 'partition', 'latency'])
        .default('cut'),
    )
    .addOption(new Option('--seconds <n>', 'how long').argParser(positiveInteger).default(10))
    .addOption(new Option('--latency-ms <ms>', 'with --kind latency').argParser(positiveInteger))
    .action(
      (
        service: string,
        backend: string,
        options: ChaosOptions & { kind: string; seconds: number; latencyMs?: number },
      ) => {
        if (backend !== 'broker' && backend !== 'sql') {
          throw new UsageError(`backend must be broker or sql, got "${backend}"`);
        }
        return print(
          act(options, '/api/faults', {
            service,
            backend,
            kind: options.kind,
            seconds: options.seconds,
            ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
          }),
        );
      },
    );
  common(
    chaos
      .command('load')
      .description("run a system's load profile from the console; its verification shows there"),
  )
    .argument('<system>', 'voting or election')
    .addOption(
      new Option('--rate <per-second>', 'arrivals per second')
        .argParser(positiveNumber)
        .default(50),
    )
    .addOption(new Option('--seconds <n>', 'how long').argParser(positiveInteger).default(30))
    .action((system: string, options: ChaosOptions & { rate: number; seconds: number }) =>
      print(
        act(options, '/api/loads', {
          system,
          rate: options.rate,
          durationSeconds: options.seconds,
        }),
      ),
    );
}
