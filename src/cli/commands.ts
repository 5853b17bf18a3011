/**
 * The `agora` command's commands, loaded by main.ts: run every service in one process (`up`),
 * one process per service (`up --distributed`), exactly one service (`run`), ask what is running
 * (`status`), and put load on a system (`load`). Each command imports its code when it runs, so
 * `agora run counter` and `agora health` load neither the other services nor the load generator.
 */
import { Command, InvalidArgumentError, Option } from 'commander';

import { UsageError } from '../platform/errors.js';
import { adminPortOf, portForRun, portForUp } from '../platform/ports.js';
import type { ServiceDefinition } from '../platform/service.js';
import { formatTable } from '../platform/table.js';
import { version } from '../platform/version.js';
import { findService, services, systems } from '../services.js';
import { exitWithError } from './fail.js';
import { startUpOver } from './start-up.js';

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65_535) {
    throw new InvalidArgumentError('expected a port number from 1 to 65535.');
  }
  return port;
}

function parseWorkers(raw: string): number {
  const count = Number(raw);
  if (!/^\d+$/.test(raw) || count < 1 || count > 32) {
    throw new InvalidArgumentError('expected a worker count from 1 to 32.');
  }
  return count;
}

function parseSeconds(raw: string): number {
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || seconds < 0.2 || seconds > 3_600) {
    throw new InvalidArgumentError('expected seconds from 0.2 to 3600.');
  }
  return seconds;
}

function parseReplicas(raw: string, previous?: Map<string, number>): Map<string, number> {
  const match = /^([a-z][a-z0-9-]*)=(\d+)$/.exec(raw);
  const count = Number(match?.[2]);
  if (match?.[1] === undefined || count < 1 || count > 32) {
    throw new InvalidArgumentError('expected <service>=<count>, with a count from 1 to 32.');
  }
  return new Map(previous ?? []).set(match[1], count);
}

function selectServices(names: readonly string[]): readonly ServiceDefinition[] {
  if (names.length === 0) return services;
  return names.map((name) => {
    const definition = findService(name);
    if (definition === undefined) throw unknownService(name);
    return definition;
  });
}

function unknownService(name: string): UsageError {
  return new UsageError(
    `no service named "${name}"; known services: ${services.map((s) => s.name).join(', ')}`,
  );
}

const program = new Command('agora')
  .description('Five distributed systems, one codebase: run, inspect and load them.')
  .version(version)
  .showHelpAfterError('(add --help for usage)')
  // Wrong flags are usage errors like the others: exit code 2, help and version still 0.
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

program
  .command('up')
  .description(
    'Run every service (or the ones named). In one process with embedded backends by default ' +
      '(PGlite, the embedded broker; real ones when DATABASE_URL / REDIS_URL are set), or one process ' +
      'per service with --distributed. Development mode (AGORA_DEV=1) unless AGORA_DEV is set: ' +
      'public development secrets run with a warning.',
  )
  .argument('[services...]', 'only these services')
  .option('--distributed', 'one OS process per service replica; real Redis and Postgres required')
  .option(
    '--replicas <service=count>',
    'with --distributed: run count replicas of a service, on consecutive ports or, for shared-port services, as cluster workers on one port (repeatable)',
    parseReplicas,
  )
  .option(
    '--faults',
    'with --distributed: a fault proxy between each service and each backend, so the console and `agora chaos fault` can cut a service off or slow it',
  )
  .action(
    async (
      names: string[],
      options: { distributed?: boolean; replicas?: Map<string, number>; faults?: boolean },
    ) => {
      const replicas = options.replicas ?? new Map<string, number>();
      const selected = selectServices(names);
      // `up` is a development machine's command: public development secrets may run (with a
      // warning) unless AGORA_DEV says otherwise; `agora run`, what containers run, never.
      const env = { AGORA_DEV: '1', ...process.env };
      if (options.distributed === true) {
        for (const name of replicas.keys()) {
          if (findService(name) === undefined) throw unknownService(name);
        }
        // A supervisor, not a service: its children hold their own start-up.
        startUpOver();
        const { runDistributed } = await import('./distributed.js');
        await runDistributed(selected, { env, replicas, faults: options.faults });
        return;
      }
      if (replicas.size > 0) throw new UsageError('--replicas needs --distributed');
      if (options.faults === true) throw new UsageError('--faults needs --distributed');
      const { runInProcess } = await import('./in-process.js');
      await runInProcess(selected, {
        env,
        allowEmbedded: true,
        serviceLogLevel: 'warn',
        portOf: (definition) => portForUp(definition, env),
        onStarted: async (running, backends, backedBy, opened) => {
          const rows = running.map((service) => [
            service.definition.name,
            service.definition.system,
            service.url,
            service.adminUrl ?? '-',
            service.definition.needs.map(backedBy).join(', ') || '-',
          ]);
          const notes: string[] = [];
          const { sql } = opened;
          for (const system of systems) {
            const runs = running.some((service) => service.definition.system === system.name);
            if (runs && sql !== undefined) notes.push(...((await system.firstSteps?.(sql)) ?? []));
          }
          const [{ startConsole }, { embeddedSource }, { createLogger }, { loadPlatformConfig }] =
            await Promise.all([
              import('../console/index.js'),
              import('../console/processes.js'),
              import('../platform/logger.js'),
              import('../platform/platform-settings.js'),
            ]);
          const consoleServer = await startConsole({
            source: embeddedSource(running),
            env,
            // Quiet like the services: the table and the banner below say where it listens.
            logger: createLogger({
              level:
                process.env.LOG_LEVEL === undefined ? 'warn' : loadPlatformConfig(env).logLevel,
            }),
            backends: opened,
          });
          process.stdout.write(
            `${formatTable(['service', 'system', 'url', 'admin', 'backed by'], rows)}\n` +
              [...backends, ...notes, ''].join('\n') +
              (consoleServer?.banner ?? '') +
              'Agora is up; Ctrl-C stops everything.\n',
          );
        },
      });
    },
  );

program
  .command('run')
  .description(
    'Run exactly one service, as a container does. Real Redis/Postgres unless --embedded.',
  )
  .argument('<service>', 'the service to run (see `agora services`)')
  .addOption(
    new Option(
      '--port <number>',
      'port to listen on (default: PORT, or the service default)',
    ).argParser(parsePort),
  )
  .option('--host <address>', 'address to bind (default: HOST, or 127.0.0.1)')
  .option(
    '--embedded',
    'use the in-memory broker and PGlite when REDIS_URL / DATABASE_URL are unset',
  )
  .addOption(
    new Option(
      '--cluster <workers>',
      "that many node:cluster workers sharing the port (services with scaling 'shared-port')",
    ).argParser(parseWorkers),
  )
  .action(
    async (
      name: string,
      options: { port?: number; host?: string; embedded?: boolean; cluster?: number },
    ) => {
      const definition = findService(name);
      if (definition === undefined) throw unknownService(name);
      const port = options.port ?? portForRun(definition, process.env);
      // node:cluster only for --cluster: a lone service (what a container runs) never loads it.
      if (options.cluster !== undefined && (await import('node:cluster')).default.isPrimary) {
        startUpOver();
        const { runClusterPrimary } = await import('./cluster.js');
        runClusterPrimary(definition, {
          env: process.env,
          workers: options.cluster,
          port,
          embedded: options.embedded === true,
        });
        return;
      }
      const { runInProcess } = await import('./in-process.js');
      await runInProcess([definition], {
        env: process.env,
        allowEmbedded: options.embedded === true,
        host: options.host,
        portOf: () => port,
      });
    },
  );

program
  .command('status')
  .description(
    "Ask every service's (or the named ones') /readyz on its admin port (AGORA_<SERVICE>_ADMIN_URL, or the local admin port of AGORA_<SERVICE>_PORT or the default), or at AGORA_<SERVICE>_URL when only that is set, and print a table; exit code 1 unless all are ready.",
  )
  .argument('[services...]', 'only these services')
  .option('--json', 'print JSON instead of a table')
  .addOption(
    new Option(
      '--watch [seconds]',
      "a live table of every process's health, rate and queue figures from the console of a running agora up (AGORA_CONSOLE_URL or 127.0.0.1:AGORA_CONSOLE_PORT), redrawn every N seconds (default 2); readiness only without a console; Ctrl-C stops",
    ).argParser(parseSeconds),
  )
  .action(async (names: string[], options: { json?: boolean; watch?: number | true }) => {
    if (options.watch !== undefined) {
      const { watchStatus } = await import('./status-watch.js');
      const controller = new AbortController();
      process.once('SIGINT', () => {
        controller.abort();
      });
      await watchStatus(selectServices(names), process.env, {
        consoleUrl:
          process.env.AGORA_CONSOLE_URL ??
          `http://127.0.0.1:${process.env.AGORA_CONSOLE_PORT ?? '7070'}`,
        intervalMs: (options.watch === true ? 2 : options.watch) * 1000,
        signal: controller.signal,
      });
      return;
    }
    const { printStatus } = await import('./status.js');
    const allReady = await printStatus(selectServices(names), process.env, options.json === true);
    process.exitCode = allReady ? 0 : 1;
  });

program
  .command('services')
  .description(
    'List every service: its system, default port, admin port (/healthz, the full /readyz, /metrics) and the backends it needs.',
  )
  .action(() => {
    const rows = services.map((service) => [
      service.name,
      service.system,
      String(service.defaultPort),
      String(adminPortOf(service, {}) ?? '-'),
      service.needs.join(', ') || '-',
      service.description,
    ]);
    process.stdout.write(
      `${formatTable(['service', 'system', 'port', 'admin', 'needs', 'description'], rows)}\n`,
    );
  });

program
  .command('health')
  .description(
    "Container health check: exit 0 when /healthz answers 2xx on 127.0.0.1 at the named service's admin port (or its only port), or without a name at PORT, the admin port a service on PORT has, or any registered service's admin port (one service runs per container); else exit 1.",
  )
  .argument('[service]', 'the service to ask (default: whichever answers)')
  .option('--host <address>', 'address to ask', '127.0.0.1')
  .action(async (name: string | undefined, options: { host: string }) => {
    const named = name === undefined ? undefined : findService(name);
    if (name !== undefined && named === undefined) throw unknownService(name);
    const { checkHealth } = await import('./health.js');
    const healthy = await checkHealth(services, named, process.env, options.host);
    process.exitCode = healthy ? 0 : 1;
  });

/** The commands above need nothing more; any other word (or help) gets every command. */
const ownCode = new Set(['up', 'run', 'status', 'services', 'health']);

async function addSystemCommands(): Promise<void> {
  const [{ addLoadCommands }, { httpLoadProfile }, ...profiles] = await Promise.all([
    import('../load/command.js'),
    import('../load/http-profile.js'),
    ...systems.flatMap((system) => system.loadProfile?.() ?? []),
  ]);
  addLoadCommands(program, [httpLoadProfile, ...profiles]);
  for (const system of systems) await system.addCommands?.(program);
  (await import('./chaos.js')).addChaosCommands(program);
}

(ownCode.has(process.argv[2] ?? '') ? Promise.resolve() : addSystemCommands())
  .then(() => program.parseAsync())
  .catch(exitWithError);
