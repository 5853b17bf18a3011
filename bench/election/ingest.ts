/**
 * Part (a) of the election benchmark: ingest throughput and p99 per route against real Redis
 * and Postgres. One ballot per request under wrk (gateway-grpc, gateway-redis) beside the bare
 * node:http baseline; unary gRPC `Cast` straight to election-grpc, one ballot per call, as a
 * share of the Redis route's rate in the same run; then batches through the load generator on
 * every route, grpc-direct being gRPC `CastMany` straight to election-grpc.
 */
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import pg from 'pg';
import { Agent } from 'undici';

import { ballotsService } from '../../src/election/grpc-proto.js';
import { type LoadRoute, loadRoutes } from '../../src/election/load/routes.js';
import { electionScenario } from '../../src/election/load/scenario.js';
import { ballotsStream, subscribersGroup } from '../../src/election/protocol.js';
import { randomBallot, seededRandom } from '../../src/election/reference-data-ballots.js';
import { runScenario } from '../../src/load/runner.js';
import { formatTable } from '../../src/platform/table.js';
import { startBaseline } from '../support/baseline.js';
import { type Comparison, type LoadSettings, progress } from '../support/benchmark.js';
import { watchAcks } from '../support/drain-watch.js';
import { h2loadInstalled, runH2load } from '../support/h2load.js';
import { type Measurement, printReport, readMemory } from '../support/report.js';
import { agoraCli, freePort, type ServerProcess, startServer } from '../support/server-process.js';
import { assertWrkInstalled, luaString, runWrk, type WrkResult } from '../support/wrk.js';

/** Distinct seed-format ballots wrk picks from at random, so writes spread over many rows. */
const wrkBallots = 1_000;

/**
 * wrk's Lua script: each request POSTs one of `wrkBallots` generated ballots in the seed's JSON,
 * without an id (the gateway assigns one, so each request stores a new row), as Locust does.
 */
function ballotScript(): string {
  const random = seededRandom(4);
  const bodies = Array.from({ length: wrkBallots }, () =>
    luaString(JSON.stringify(randomBallot(random))),
  );
  return [
    `local bodies = { ${bodies.join(',\n')} }`,
    `local headers = { ["content-type"] = "application/json" }`,
    `request = function() return wrk.format("POST", nil, headers, bodies[math.random(#bodies)]) end`,
    '',
  ].join('\n');
}

export interface IngestSettings {
  /** Ballots per request in the batched part. */
  batch: number;
  /** Simulated users (concurrent requests) in the batched part. */
  users: number;
}

interface RunningIngest {
  gatewayUrl: string;
  grpcAddress: string;
  gatewayPid: number;
  /**
   * Resolves once the subscriber has stored every ballot queued so far, so the next
   * measurement does not share the cores with the Redis route's drain.
   */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/** The three ingest services in a prefix and schema of their own, removed by `close`. */
class IngestLab {
  readonly redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  readonly databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  readonly #name = `bench_election_${randomBytes(4).toString('hex')}`;
  readonly prefix = `agora-${this.#name}:`;
  readonly schema = this.#name;

  async start(): Promise<RunningIngest> {
    const ports = {
      grpc: await freePort(),
      admin: await freePort(),
      gateway: await freePort(),
      subscriber: await freePort(),
    };
    const env = {
      ...process.env,
      REDIS_URL: this.redisUrl,
      DATABASE_URL: this.databaseUrl,
      AGORA_REDIS_PREFIX: this.prefix,
      AGORA_DB_SCHEMA: this.schema,
      AGORA_ELECTION_GRPC_URL: `127.0.0.1:${ports.grpc}`,
      ELECTION_GRPC_ADMIN_PORT: String(ports.admin),
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
    };
    const run = (service: string, port: number, readyPort = port) => {
      progress(`starting ${service} on port ${port} (schema ${this.schema})`);
      return startServer(service, {
        args: [agoraCli, 'run', service, '--port', String(port)],
        env,
        url: `http://127.0.0.1:${port}/`,
        readyUrl: `http://127.0.0.1:${readyPort}/readyz`,
      });
    };
    const started: ServerProcess[] = [];
    try {
      started.push(await run('election-grpc', ports.grpc, ports.admin));
      started.push(await run('election-subscriber', ports.subscriber));
      started.push(await run('election-gateway', ports.gateway));
    } catch (error) {
      await Promise.all(started.map((server) => server.stop()));
      throw error;
    }
    return {
      gatewayUrl: `http://127.0.0.1:${ports.gateway}/`,
      gatewayPid: started[2]?.pid ?? 0,
      grpcAddress: `127.0.0.1:${ports.grpc}`,
      settle: () => this.#settle(),
      stop: async () => {
        await Promise.all(started.map((server) => server.stop()));
      },
    };
  }

  async #settle(): Promise<void> {
    const redis = new Redis(this.redisUrl, { maxRetriesPerRequest: 1 });
    const stream = `${this.prefix}${ballotsStream}`;
    try {
      const entries = await entriesAdded(redis, stream);
      if (entries === 0) return;
      await watchAcks(redis, { stream, group: subscribersGroup, entries, consumer: 'subscriber' });
    } finally {
      redis.disconnect();
    }
  }

  /** Ballots stored through the gRPC route so far. */
  async grpcBallots(): Promise<number> {
    const sql = new pg.Pool({ connectionString: this.databaseUrl, max: 1 });
    try {
      const { rows } = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${this.schema}.ballots WHERE route = 'grpc'`,
      );
      return rows[0]?.n ?? 0;
    } finally {
      await sql.end();
    }
  }

  /** Drops the schema and every key under the prefix. */
  async close(): Promise<void> {
    const redis = new Redis(this.redisUrl, { maxRetriesPerRequest: 1 });
    const sql = new pg.Pool({ connectionString: this.databaseUrl, max: 1 });
    try {
      await sql.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
      await sql.end();
    }
  }
}

export async function measureIngest(load: LoadSettings, settings: IngestSettings): Promise<void> {
  await assertWrkInstalled();
  const lab = new IngestLab();
  let ingest: RunningIngest | undefined;
  try {
    ingest = await lab.start();
    const running = ingest;
    process.stdout.write(
      `election (a) ingest, one generated ballot per POST in the seed's JSON (no id: a new row ` +
        `each) under wrk, beside the baseline\n`,
    );
    const baselineServer = await startBaseline();
    try {
      const targets = [
        { name: 'baseline', url: baselineServer.url, pid: baselineServer.pid },
        ...(['grpc', 'redis'] as const).map((route) => ({
          name: `gateway-${route}`,
          url: new URL(`/ingest/${route}`, running.gatewayUrl).href,
          pid: running.gatewayPid,
        })),
      ];
      const comparison = await compareUnderWrk(targets, load, () => running.settle());
      printReport(comparison, load);
      await running.settle();
      progress(`measuring grpc-direct unary Cast, ${load.connections} users`);
      const unary = await measureUnaryCast(running, load);
      const native = (await h2loadInstalled())
        ? await measureUnaryCastNative(running, lab, load)
        : undefined;
      process.stdout.write(`${formatUnaryCast(unary, native, comparison)}\n`);
    } finally {
      await baselineServer.stop();
    }
    process.stdout.write(
      `\nelection (a) ingest in batches of ${settings.batch} ballots (arrays to the gateway, ` +
        `CastMany to election-grpc), ${settings.users} users, ${load.durationSeconds} s per route\n`,
    );
    const rows: string[][] = [];
    for (const route of loadRoutes) {
      await running.settle();
      progress(`measuring ${route} in batches of ${settings.batch}`);
      rows.push(await measureBatched(route, running, load.durationSeconds, settings));
    }
    process.stdout.write(
      `${formatTable(['route', 'ballots/s', 'requests/s', 'failed', 'p50 ms', 'p99 ms'], rows)}\n`,
    );
  } finally {
    await ingest?.stop();
    await lab.close();
  }
}

/** Entries ever appended to the stream (0 before the first). */
async function entriesAdded(redis: Redis, stream: string): Promise<number> {
  let info: unknown;
  try {
    info = await redis.call('XINFO', 'STREAM', stream);
  } catch {
    return 0;
  }
  const fields = info as unknown[];
  const at = fields.indexOf('entries-added');
  return at < 0 ? 0 : Number(fields[at + 1] ?? 0);
}

/**
 * Like benchmark.ts's `compare`, for servers already running and a Lua script: a warm-up each,
 * then `rounds` alternating runs; medians by requests/s, ratios to the first target. Each run
 * starts once `settle` has resolved, after the subscriber drained what the runs before queued.
 */
async function compareUnderWrk(
  targets: readonly { name: string; url: string; pid: number }[],
  load: LoadSettings,
  settle: () => Promise<void>,
): Promise<Comparison> {
  const script = ballotScript();
  const wrk = async (url: string, durationSeconds: number) => {
    await settle();
    return runWrk({
      url,
      threads: load.threads,
      connections: load.connections,
      durationSeconds,
      script,
    });
  };
  if (load.warmupSeconds > 0) {
    for (const target of targets) {
      progress(`warming up ${target.name} for ${load.warmupSeconds} s`);
      await wrk(target.url, load.warmupSeconds);
    }
  }
  const runs: Measurement[][] = targets.map(() => []);
  for (let round = 1; round <= load.rounds; round++) {
    for (const [index, target] of targets.entries()) {
      progress(
        `round ${round}/${load.rounds}: measuring ${target.name} for ${load.durationSeconds} s`,
      );
      const result: WrkResult = await wrk(target.url, load.durationSeconds);
      runs[index]?.push({ server: target.name, result, memory: readMemory(target.pid) });
    }
  }
  const rates = runs.map((list) => list.map((run) => run.result.requestsPerSecond));
  return {
    medians: runs.map((list) => {
      const sorted = [...list].sort(
        (a, b) => a.result.requestsPerSecond - b.result.requestsPerSecond,
      );
      const median = sorted[Math.floor((sorted.length - 1) / 2)];
      if (median === undefined) throw new Error('no runs to take a median of');
      return median;
    }),
    roundRatios: Array.from({ length: load.rounds }, (_, round) =>
      rates.map((list) => (list[round] ?? 0) / (rates[0]?.[round] ?? 1)),
    ),
  };
}

interface RouteRun {
  ballotsPerSecond: number;
  requestsPerSecond: number;
  failed: number;
  latencyMs: { p50: number; p99: number };
}

/**
 * Issue 17's figure: unary `Cast` (one ballot per call) straight to election-grpc, as many
 * load-generator users as wrk has connections, beside the gateway's Redis route under wrk.
 */
function measureUnaryCast(ingest: RunningIngest, load: LoadSettings): Promise<RouteRun> {
  return runRoute('grpc-direct', ingest, load.durationSeconds, {
    batch: 1,
    users: load.connections,
  });
}

/**
 * Unary `Cast` from h2load: one connection with as many streams as wrk has connections, as the
 * gateway's one channel. h2load sends one body, so every call is the same ballot without an id
 * (a new row each, all on the same summary rows); a call counts once its row is stored, since
 * h2load reads HTTP statuses, not gRPC ones.
 */
async function measureUnaryCastNative(
  ingest: RunningIngest,
  lab: IngestLab,
  load: LoadSettings,
): Promise<{ stored: number; perSecond: number; meanMs: number }> {
  const cast = ballotsService().service.Cast;
  if (cast === undefined) throw new Error('election.proto has no Cast');
  const message = cast.requestSerialize({ id: '', ...randomBallot(seededRandom(4)) });
  // gRPC's length-prefixed message: a compression flag (0), the length, the protobuf bytes.
  const body = Buffer.alloc(5 + message.length);
  body.writeUInt32BE(message.length, 1);
  message.copy(body, 5);
  progress(`measuring unary Cast from h2load, ${load.connections} streams`);
  const before = await lab.grpcBallots();
  const result = await runH2load({
    url: `http://${ingest.grpcAddress}${cast.path}`,
    durationSeconds: load.durationSeconds,
    clients: 1,
    streams: load.connections,
    body,
    headers: { 'content-type': 'application/grpc', te: 'trailers' },
  });
  const stored = (await lab.grpcBallots()) - before;
  // Calls still open when h2load stops are stored but not counted: at most one per stream.
  if (stored > result.succeeded + load.connections) {
    throw new Error(
      `h2load: ${stored} ballots stored, but only ${result.succeeded} calls answered`,
    );
  }
  return { stored, perSecond: stored / load.durationSeconds, meanMs: result.meanLatencyMs };
}

function formatUnaryCast(
  unary: RouteRun,
  native: { stored: number; perSecond: number; meanMs: number } | undefined,
  comparison: Comparison,
): string {
  const rateOf = (name: string) =>
    comparison.medians.find((run) => run.server === name)?.result.requestsPerSecond ?? 0;
  const redis = rateOf('gateway-redis');
  const share = (rate: number) => (redis > 0 ? (rate / redis).toFixed(2) : '-');
  const rate = (value: number) => Math.round(value).toLocaleString('en-US');
  return [
    `\nunary gRPC Cast, one ballot per call straight to election-grpc, beside gateway-redis ` +
      `under wrk above (aim 0.5): from the load generator (this process, generated ballots) and ` +
      `from h2load (one ballot repeated, counted by the rows it stored)`,
    formatTable(
      ['route', 'req/s', 'failed', 'p50 ms', 'p99 ms', 'vs gateway-redis'],
      [
        [
          'grpc-direct Cast',
          rate(unary.requestsPerSecond),
          String(unary.failed),
          unary.latencyMs.p50.toFixed(1),
          unary.latencyMs.p99.toFixed(1),
          share(unary.requestsPerSecond),
        ],
        native === undefined
          ? ['Cast from h2load', 'skipped: apt-get install nghttp2-client', '', '', '', '']
          : [
              'Cast from h2load',
              rate(native.perSecond),
              '',
              `mean ${native.meanMs.toFixed(1)}`,
              '',
              share(native.perSecond),
            ],
        [
          'gateway-grpc (wrk)',
          rate(rateOf('gateway-grpc')),
          '',
          '',
          '',
          share(rateOf('gateway-grpc')),
        ],
      ],
    ),
  ].join('\n');
}

/** One route alone under the closed model; latency is per request (a whole batch). */
async function measureBatched(
  route: LoadRoute,
  ingest: RunningIngest,
  seconds: number,
  settings: IngestSettings,
): Promise<string[]> {
  const run = await runRoute(route, ingest, seconds, settings);
  return [
    route,
    Math.round(run.ballotsPerSecond).toLocaleString('en-US'),
    Math.round(run.requestsPerSecond).toLocaleString('en-US'),
    String(run.failed),
    run.latencyMs.p50.toFixed(1),
    run.latencyMs.p99.toFixed(1),
  ];
}

async function runRoute(
  route: LoadRoute,
  ingest: RunningIngest,
  seconds: number,
  settings: IngestSettings,
): Promise<RouteRun> {
  const scenario = electionScenario({
    gatewayUrl: new URL(ingest.gatewayUrl),
    grpcAddress: ingest.grpcAddress,
    weights: new Map([[route, 1]]),
    batch: settings.batch,
    retry: { retries: 0, initialMs: 50, maxMs: 1_000 },
    timeoutMs: 10_000,
    settleTimeoutMs: 0,
  });
  const http = new Agent({ connections: settings.users });
  try {
    const result = await runScenario(
      scenario,
      { baseUrl: new URL(ingest.gatewayUrl), http },
      {
        model: { kind: 'closed', users: settings.users, thinkTimeMs: { min: 0, max: 0 } },
        durationMs: seconds * 1000,
        graceMs: 10_000,
      },
    );
    const { total } = result.stats.summary();
    const elapsed = result.elapsedMs / 1000;
    const ballots = result.record.acknowledged.length * settings.batch;
    return {
      ballotsPerSecond: ballots / elapsed,
      requestsPerSecond: total.requests / elapsed,
      failed: total.failed,
      latencyMs: { p50: total.latencyMs.p50, p99: total.latencyMs.p99 },
    };
  } finally {
    scenario.close();
    await http.close();
  }
}
