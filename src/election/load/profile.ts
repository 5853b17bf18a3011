/**
 * `agora load election`: ballots (from a seed-format JSON file, or generated from Guatemala's
 * reference data) sent over three routes by weight — the gateway's gRPC and Redis routes and
 * gRPC straight to election-grpc — each with a client-chosen id that retries reuse; then every
 * acknowledged ballot must be stored exactly once (exit 3 otherwise), in the store the running
 * election-api uses (embedded PGlite or Postgres), or in the Postgres --database-url names.
 */
import { readFile } from 'node:fs/promises';

import { InvalidArgumentError, Option } from 'commander';

import { parseDuration } from '../../load/cli-options.js';
import type { LoadProfile } from '../../load/command.js';
import { UsageError } from '../../platform/errors.js';
import { checkSchemaName } from '../../platform/sql/index.js';
import { parseBallot } from '../ballot.js';
import { defaultGrpcAddress } from '../protocol.js';
import { defaultRetryPolicy, type LoadRoute, loadRoutes } from './routes.js';
import { electionScenario, type FileBallot, type VerifyIn } from './scenario.js';

/** `gateway-grpc=1,gateway-redis=1,grpc-direct=1`; routes left out get weight 0. */
export function parseRouteWeights(raw: string): Map<LoadRoute, number> {
  const weights = new Map<LoadRoute, number>();
  for (const part of raw.split(',')) {
    const match = /^\s*([a-z-]+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    const route = loadRoutes.find((known) => known === match?.[1]);
    if (match === null || route === undefined) {
      throw new InvalidArgumentError(
        `expected route=weight pairs such as gateway-grpc=1,grpc-direct=2; routes: ${loadRoutes.join(', ')}.`,
      );
    }
    weights.set(route, Number(match[2]));
  }
  if ([...weights.values()].every((weight) => weight === 0)) {
    throw new InvalidArgumentError('at least one route needs a weight above 0.');
  }
  return weights;
}

/** A JSON array of ballots in the seed's format (an `id` per ballot is optional). */
export async function readBallotFile(path: string): Promise<FileBallot[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `--data ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new UsageError(`--data ${path}: expected a non-empty JSON array of ballots`);
  }
  return parsed.map((item: unknown, index) => {
    try {
      const givenId = (item as { id?: unknown } | null)?.id;
      const { id, ...fields } = parseBallot(item, `[${index}]`);
      return typeof givenId === 'string' && givenId !== '' ? { id, ...fields } : fields;
    } catch (error) {
      throw new UsageError(
        `--data ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  });
}

function wholeNumber(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new InvalidArgumentError('expected a whole number above 0.');
  }
  return Number(raw);
}

function retryCount(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new InvalidArgumentError('expected a whole number, 0 or more.');
  return Number(raw);
}

function parseSchema(raw: string): string {
  try {
    return checkSchemaName(raw);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

function parseUrlOption(flag: string, raw: string, example: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new UsageError(`${flag} "${raw}" is not a URL such as ${example}`);
  }
}

/** The running election-api unless a Postgres is named: the store the stack actually uses. */
function verifyIn(own: Record<string, unknown>): VerifyIn {
  if (typeof own.databaseUrl === 'string') {
    return { kind: 'database', url: own.databaseUrl, schema: String(own.dbSchema) };
  }
  return {
    kind: 'api',
    url: parseUrlOption('--api-url', String(own.apiUrl), 'http://127.0.0.1:3000/'),
  };
}

export const electionLoadProfile: LoadProfile = {
  system: 'election',
  description:
    'Ballots (from --data, or generated from Guatemala’s departments, municipalities and ' +
    'parties) over gateway-grpc, gateway-redis and grpc-direct by --routes weights, retried ' +
    'with the same id; then every acknowledged ballot must be stored exactly once (exit 3 ' +
    'otherwise), checked through election-api in whatever store the stack uses.',
  defaultUrl: (env) => env.AGORA_ELECTION_GATEWAY_URL ?? 'http://127.0.0.1:3001/',
  addOptions(command) {
    command
      .addOption(
        new Option(
          '--data <file>',
          'JSON array of ballots in the seed’s format; default: generate',
        ),
      )
      .addOption(
        new Option('--routes <route=weight,...>', `routes and weights: ${loadRoutes.join(', ')}`)
          .argParser(parseRouteWeights)
          .default(
            new Map(loadRoutes.map((route) => [route, 1])),
            loadRoutes.map((r) => `${r}=1`).join(','),
          ),
      )
      .addOption(
        new Option('--batch <count>', 'ballots per request: an array, or CastMany on gRPC')
          .argParser(wholeNumber)
          .default(1),
      )
      .addOption(
        new Option('--grpc-url <host:port>', 'election-grpc, for grpc-direct')
          .env('AGORA_ELECTION_GRPC_URL')
          .default(defaultGrpcAddress),
      )
      .addOption(
        new Option('--retries <count>', 'retries per request, same ids, on 5xx/UNAVAILABLE/errors')
          .argParser(retryCount)
          .default(defaultRetryPolicy.retries),
      )
      .addOption(new Option('--seed <n>', 'seed for generated ballots').argParser(wholeNumber))
      .addOption(
        new Option('--api-url <url>', 'election-api, read to verify whatever store it uses')
          .env('AGORA_ELECTION_API_URL')
          .default('http://127.0.0.1:3000/'),
      )
      .addOption(
        new Option(
          '--database-url <url>',
          'verify in this Postgres directly instead (when election-api is not running)',
        ),
      )
      .addOption(
        new Option('--db-schema <name>', 'with --database-url: the schema holding the ballots')
          .env('AGORA_DB_SCHEMA')
          .argParser(parseSchema)
          .default('public'),
      )
      .addOption(
        new Option('--settle-timeout <time>', 'how long verification waits for the Redis route')
          .argParser(parseDuration)
          .default(30_000, '30s'),
      );
  },
  async createScenario(run, own) {
    const settleTimeoutMs = typeof own.settleTimeout === 'number' ? own.settleTimeout : 30_000;
    const weights = own.routes instanceof Map ? (own.routes as Map<LoadRoute, number>) : undefined;
    return electionScenario({
      gatewayUrl: parseUrlOption('--url', run.url.href, 'http://127.0.0.1:3001/'),
      grpcAddress: String(own.grpcUrl),
      weights: weights ?? new Map(loadRoutes.map((route) => [route, 1])),
      batch: typeof own.batch === 'number' ? own.batch : 1,
      ...(typeof own.data === 'string' ? { data: await readBallotFile(own.data) } : {}),
      ...(typeof own.seed === 'number' ? { seed: own.seed } : {}),
      retry: { ...defaultRetryPolicy, retries: typeof own.retries === 'number' ? own.retries : 20 },
      timeoutMs: run.timeoutMs,
      ...(run.verify ? { verifyIn: verifyIn(own) } : {}),
      // Leave the core's --verify-timeout room to report what this step found.
      settleTimeoutMs: Math.min(settleTimeoutMs, Math.max(0, run.verifyTimeoutMs - 5_000)),
    });
  },
};
