/**
 * `agora up --distributed`: one OS process per service replica on loopback, each running
 * `agora run <service>` against real Redis and Postgres (replicas of a service declared
 * `scaling: 'shared-port'` are one `agora run <service> --cluster N` on one port). It checks
 * those answer first, hands the processes to the supervisor (supervisor.ts) and the console
 * (src/console/), and on Ctrl-C stops every process it started.
 */
import { startConsole } from '../console/index.js';
import { loadConsoleConfig } from '../console/settings.js';
import { Timeline } from '../console/timeline.js';
import { openBroker } from '../platform/broker/index.js';
import type { Env } from '../platform/config.js';
import { UsageError } from '../platform/errors.js';
import { redisUrlOf } from '../platform/platform-settings.js';
import type { ServiceDefinition } from '../platform/service.js';
import { openSql } from '../platform/sql/index.js';
import { formatTable } from '../platform/table.js';
import { BackendFaults } from './backend-faults.js';
import { prepare } from './in-process.js';
import { waitUntilReady } from './readiness-wait.js';
import { Supervisor } from './supervisor.js';

const defaultRedisUrl = 'redis://127.0.0.1:6379';
const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface DistributedOptions {
  env: Env;
  replicas: ReadonlyMap<string, number>;
  /** Put a fault proxy between each service and each backend (the console's fault actions). */
  faults?: boolean;
}

export async function runDistributed(
  definitions: readonly ServiceDefinition[],
  options: DistributedOptions,
): Promise<void> {
  const { config, logger } = prepare(definitions, options.env);
  const needs = new Set(definitions.flatMap((definition) => definition.needs));

  const childEnv: Record<string, string | undefined> = { ...options.env };
  if (needs.has('broker')) {
    const url = redisUrlOf(config);
    childEnv.REDIS_URL = url ?? defaultRedisUrl;
    await requireBackend({
      name: 'Redis',
      variable: 'REDIS_URL',
      url: childEnv.REDIS_URL,
      isDefault: url === undefined,
      open: (redisUrl) => openBroker({ url: redisUrl }),
    });
  }
  if (needs.has('sql')) {
    childEnv.DATABASE_URL = config.databaseUrl ?? defaultDatabaseUrl;
    await requireBackend({
      name: 'Postgres',
      variable: 'DATABASE_URL',
      url: childEnv.DATABASE_URL,
      isDefault: config.databaseUrl === undefined,
      open: (databaseUrl) => openSql({ url: databaseUrl }),
    });
  }
  childEnv.LOG_FORMAT = config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  // The table says what started; the processes' own lines are what goes wrong afterwards.
  childEnv.LOG_LEVEL = options.env.LOG_LEVEL ?? 'warn';

  const faults =
    options.faults === true ? await BackendFaults.start(definitions, childEnv) : undefined;
  const timeline = new Timeline();
  const withConsole = loadConsoleConfig(childEnv).enabled;
  const supervisor = new Supervisor({
    definitions,
    env: childEnv,
    logger,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    envOf: faults === undefined ? undefined : (definition) => faults.envOf(definition),
    faults,
    note: (entry) => timeline.add(entry),
    onEveryProcessDead: () => {
      // With a console a person can start them again; without one nothing is left to do.
      if (withConsole) return;
      logger.error('every process has died; stopping');
      process.exit(1);
    },
  });
  for (const definition of definitions) {
    supervisor.start(definition, options.replicas.get(definition.name) ?? 1);
  }

  const stopped = new AbortController();
  let consoleServer: Awaited<ReturnType<typeof startConsole>> = undefined;
  let stopping = false;
  const stopAll = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    stopped.abort();
    logger.info({ signal }, 'stopping every process');
    await supervisor.stopAll();
    await consoleServer?.close();
    await faults?.close();
    process.exit(0);
  };
  process.on('SIGINT', (signal) => void stopAll(signal));
  process.on('SIGTERM', (signal) => void stopAll(signal));

  // The table comes once every process answers ready, as in one process.
  await waitUntilReady(
    supervisor.list().map(({ label, healthUrl }) => ({
      name: label,
      readiness: () => readinessOf(supervisor, label, healthUrl),
    })),
    logger,
    stopped.signal,
  );
  // A signal may have come while waiting (TypeScript cannot see the handler set it).
  if (stopped.signal.aborted) return;
  consoleServer = await startConsole({
    source: supervisor,
    env: childEnv,
    // At the services' level: the table and the banner below say where it listens.
    logger: logger.child({}, { level: childEnv.LOG_LEVEL }),
    timeline,
  });
  const rows = supervisor
    .list()
    .map(({ label, url, healthUrl, pid }) => [
      label,
      url,
      healthUrl === url ? '-' : healthUrl,
      String(pid ?? '-'),
    ]);
  const backends = [childEnv.REDIS_URL, childEnv.DATABASE_URL].filter((url) => url !== undefined);
  process.stdout.write(
    `${formatTable(['process', 'url', 'admin', 'pid'], rows)}\n` +
      `backends: ${backends.map(safeUrl).join(', ')}\n` +
      (consoleServer?.banner ?? '') +
      'Agora is up; Ctrl-C stops everything.\n',
  );
}

/** What a replica's /readyz says; one that has exited has nothing left to wait for. */
async function readinessOf(
  supervisor: Supervisor,
  label: string,
  healthUrl: string,
): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const state = supervisor.list().find((replica) => replica.label === label)?.state;
  if (state !== 'running') return { ready: true, checks: {} };
  try {
    const response = await fetch(new URL('/readyz', healthUrl), {
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await response.json()) as { checks?: Record<string, string> };
    return { ready: response.ok, checks: body.checks ?? {} };
  } catch {
    return { ready: false, checks: { process: 'not answering yet' } };
  }
}

interface RequiredBackend {
  name: 'Redis' | 'Postgres';
  variable: 'REDIS_URL' | 'DATABASE_URL';
  url: string;
  isDefault: boolean;
  open(url: string): Promise<{ ping(): Promise<void>; close(): Promise<void> }>;
}

/** Refuses to start, in one line, when a backend the services need does not answer. */
async function requireBackend(backend: RequiredBackend): Promise<void> {
  const handle = await backend.open(backend.url);
  try {
    await handle.ping();
  } catch (error) {
    const source = backend.isDefault ? `the default; set ${backend.variable}` : backend.variable;
    throw new UsageError(
      `--distributed needs ${backend.name}, and nothing answers at ${safeUrl(backend.url)} (${source}): ${reason(error)}`,
    );
  } finally {
    await handle.close();
  }
}

function safeUrl(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

function reason(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof AggregateError && cause.errors[0] instanceof Error) {
    return cause.errors[0].message; // pg reports a refused IPv4 and IPv6 dial together
  }
  if (cause instanceof Error && cause.message !== '') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
