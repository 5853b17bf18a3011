/**
 * The election load scenario: each request picks a route by weight, takes the next ballots
 * (from a data file in a loop, or generated), sends them with retries that reuse their ids, and
 * reports what was acknowledged; afterwards every acknowledged ballot is looked up in the store
 * the running system uses (through election-api), or in a Postgres named by --database-url.
 */
import { randomBytes } from 'node:crypto';

import { describeStore, type Scenario, type ScenarioContext } from '../../load/scenario.js';
import { PgSql } from '../../platform/sql/index.js';
import type { Ballot } from '../ballot.js';
import { BallotsClient } from '../grpc-client.js';
import { type BallotFields, randomBallot, seededRandom } from '../reference-data-ballots.js';
import {
  type Attempt,
  castDirect,
  type LoadRoute,
  loadRoutes,
  postToGateway,
  type RetryPolicy,
  sendWithRetries,
} from './routes.js';
import { sqlBallotsReader, type StoredBallotsReader, verifyStoredBallots } from './verify.js';
import { apiBallotsReader } from './verify-api.js';

export interface ElectionLoadOptions {
  /** The gateway (election-gateway), for the two gateway routes. */
  gatewayUrl: URL;
  /** `host:port` of election-grpc, for `grpc-direct`. */
  grpcAddress: string;
  /** Relative weight of each route; routes with weight 0 are not used. */
  weights: ReadonlyMap<LoadRoute, number>;
  /** Ballots per request: an array to the gateway, `CastMany` on gRPC (`Cast` when 1). */
  batch: number;
  /** Ballots from `--data`; ballots are generated when absent. */
  data?: readonly FileBallot[];
  /** Seeds the generator, so a run can be replayed. */
  seed?: number;
  retry: RetryPolicy;
  /** Per gRPC call, like the HTTP --timeout. */
  timeoutMs: number;
  /**
   * Where to read what is stored: through the running election-api (what every stack
   * offers, embedded or not), or straight from a Postgres named by `--database-url`;
   * undefined skips verification (benchmarks, `--no-verify`).
   */
  verifyIn?: VerifyIn;
  /** How long verification waits for the subscriber to store stream-acknowledged ballots. */
  settleTimeoutMs: number;
}

export type VerifyIn =
  { kind: 'api'; url: URL } | { kind: 'database'; url: string; schema: string };

/** A ballot of a data file; `id` only when the file gave one (then every send reuses it). */
export type FileBallot = BallotFields & { id?: string };

/** What one request sent and how it ended; the scenario's acknowledgement type. */
export interface SentBatch {
  route: LoadRoute;
  ballots: Ballot[];
}

export interface ElectionScenario extends Scenario<null, SentBatch> {
  /** Closes the gRPC channel, so it keeps nothing alive after the run (verify calls it too). */
  close(): void;
}

export function electionScenario(options: ElectionLoadOptions): ElectionScenario {
  const routes = loadRoutes.filter((route) => (options.weights.get(route) ?? 0) > 0);
  const pickRoute = routePicker(options.weights);
  const nextBallot = ballotSource(options);
  const retries = new Map<LoadRoute, number>();
  let client: BallotsClient | undefined;
  const grpcClient = () =>
    (client ??= new BallotsClient({ address: options.grpcAddress, deadlineMs: options.timeoutMs }));
  const close = () => {
    client?.close();
    client = undefined;
  };

  return {
    name: 'election',
    routes,
    createUser: () => null,
    async request(_user, context) {
      const route = pickRoute();
      const ballots = Array.from({ length: options.batch }, nextBallot);
      const attempt = (): Promise<Attempt> =>
        route === 'grpc-direct'
          ? castDirect(grpcClient(), ballots)
          : postToGateway(
              options.gatewayUrl,
              route === 'gateway-grpc' ? 'grpc' : 'redis',
              ballots,
              context,
            );
      const sent = await sendWithRetries(attempt, options.retry, context.signal);
      retries.set(route, (retries.get(route) ?? 0) + sent.retries);
      const batch: SentBatch = { route, ballots };
      if (sent.ok) return { route, ok: true, status: sent.status, acknowledged: batch };
      return {
        route,
        ok: false,
        status: sent.status,
        error: sent.reason,
        unconfirmed: sent.uncertain ? batch : undefined,
      };
    },
    async verify(record, context) {
      close();
      if (options.verifyIn === undefined) {
        return { ok: true, checked: 0, differences: [], expected: 'nothing: no store to check' };
      }
      const { store, done } = openReader(options.verifyIn, context);
      try {
        const result = await verifyStoredBallots(store, {
          acknowledged: record.acknowledged.flatMap((batch) => batch.ballots),
          unconfirmed: record.unconfirmed.flatMap((batch) => batch.ballots),
          deadline: Date.now() + options.settleTimeoutMs,
          pollIntervalMs: 200,
          signal: context.signal,
        });
        // The primary key forbids a second row, so a ballot counted twice could only show in
        // the summary tables: they must equal a fresh aggregate of `ballots` too.
        const drift = await store.summaryDrift();
        const differences = [
          ...result.differences,
          ...drift.map((row) => `summary differs from a fresh count of ballots: ${row}`),
        ];
        const perRoute = Object.fromEntries(
          routes.map((route) => {
            const acked = record.acknowledged.filter((batch) => batch.route === route);
            const ballots = acked.reduce((sum, batch) => sum + batch.ballots.length, 0);
            return [route, { ballots, retries: retries.get(route) ?? 0 }];
          }),
        );
        return {
          ...result,
          ok: result.ok && drift.length === 0,
          differences,
          expected: { ...asObject(result.expected), acknowledgedByRoute: perRoute },
          store: await store.describe(),
        };
      } finally {
        await done();
      }
    },
    close,
  };
}

/** The reader `verifyIn` names, and what closes it. */
function openReader(
  verifyIn: VerifyIn,
  context: ScenarioContext,
): { store: StoredBallotsReader; done: () => Promise<void> } {
  if (verifyIn.kind === 'api') {
    return {
      store: apiBallotsReader(verifyIn.url, context.http, context.signal),
      done: () => Promise.resolve(),
    };
  }
  const sql = new PgSql({ url: verifyIn.url, schema: verifyIn.schema });
  const described = describeStore('pg', `--database-url ${sql.location}, schema ${sql.schema}`);
  return { store: sqlBallotsReader(sql, described), done: () => sql.close() };
}

function asObject(value: unknown): Record<string, never> {
  return typeof value === 'object' && value !== null ? (value as Record<string, never>) : {};
}

/** Each call picks a route at random, in proportion to its weight (the seed's ingress split). */
function routePicker(weights: ReadonlyMap<LoadRoute, number>): () => LoadRoute {
  const entries = loadRoutes
    .map((route) => [route, weights.get(route) ?? 0] as const)
    .filter(([, weight]) => weight > 0);
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  return () => {
    let target = Math.random() * total;
    for (const [route, weight] of entries) {
      target -= weight;
      if (target < 0) return route;
    }
    return entries[entries.length - 1]?.[0] ?? 'gateway-grpc';
  };
}

/** The next ballot to send: the data file in a loop, or a generated one, each with its id. */
function ballotSource(options: ElectionLoadOptions): () => Ballot {
  const run = `load-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const random = options.seed === undefined ? Math.random : seededRandom(options.seed);
  let sent = 0;
  return () => {
    const index = sent++;
    const id = `${run}-${index}`;
    const data = options.data;
    if (data === undefined || data.length === 0) return { id, ...randomBallot(random) };
    const { id: fileId, ...fields } = data[index % data.length] ?? {};
    return { ...(fields as BallotFields), id: fileId ?? id };
  };
}
