/**
 * The news benchmark of issue 5, against real Postgres in a schema of its own (dropped after):
 * an agent and three nodes as processes (`agora run`), 50 users each with their own client.
 * (a) the common path, route via the agent then read or post on the node, 50 concurrent
 * clients: operations/s and p50/p99, beside a bare NDJSON server pair (an "agent" and a "node"
 * that answer at once) under the same connection pattern, rounds alternating, and the ratio;
 * (b) failover: SIGKILL a node, time until an operation on each of its areas succeeds again
 * (one node per area, so its areas must move). `--parts a` or `--parts b` runs one of them.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { createAdmin } from '../../src/news/accounts.js';
import { NewsClient } from '../../src/news/client/client.js';
import { callNews } from '../../src/news/frame-client.js';
import { PgSql } from '../../src/platform/sql/index.js';
import { type Benchmark, type LoadSettings, progress, runsPart } from '../support/benchmark.js';
import { readCpuMs } from '../support/report.js';
import { backendPids } from '../support/server-cpu.js';
import { agoraCli, freePort, type ServerProcess, startServer } from '../support/server-process.js';

const clients = 50;
const areaCount = 12;
const failoverRounds = 3;
const baselineScript = fileURLToPath(
  new URL('../support/ndjson-baseline-server.js', import.meta.url),
);

interface Cluster {
  agent: string;
  agentPid: number;
  /** The application_name of the cluster's Postgres connections, to find their backends. */
  applicationName: string;
  nodes: { address: string; port: number; server: ServerProcess }[];
  startNode(port: number): Promise<ServerProcess>;
  stop(): Promise<void>;
}

export const newsBenchmark: Benchmark = {
  name: 'news',
  description:
    'route via the agent + read/post on a node, 50 concurrent clients (ops/s, p50/p99); ' +
    'failover time after SIGKILL of a node (real Postgres)',
  run: async (load) => {
    const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `bench_news_${randomBytes(4).toString('hex')}`;
    const sql = new PgSql({ url: databaseUrl, schema });
    const cluster = await startCluster(databaseUrl, schema);
    try {
      const users = await prepare(sql, cluster.agent);
      process.stdout.write(
        `news: Postgres ${databaseUrl}, schema ${schema} (dropped afterwards); agent and 3 nodes ` +
          `as processes, ${areaCount} areas, one node per area, ${clients} users\n\n`,
      );
      if (runsPart(load, 'a')) await measureCommonPath(load, users, sql, cluster);
      if (runsPart(load, 'b')) {
        const times: number[] = [];
        for (let round = 1; round <= failoverRounds; round++) {
          progress(`failover ${round}/${failoverRounds}`);
          times.push(await failover(sql, cluster, users[0] ?? new NewsClient({ agent: '' })));
        }
        const sorted = [...times].sort((a, b) => a - b);
        process.stdout.write(
          `(b) failover, SIGKILL of a node to the first successful operation on every one of its ` +
            `areas (NEWS_HEALTH_CHECK_MS=1000, NEWS_HEARTBEAT_MS=1000, defaults):\n` +
            `    median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms; runs: ` +
            `${times.map((t) => t.toFixed(0)).join(', ')} ms\n`,
        );
      }
    } finally {
      await cluster.stop();
      await sql.close();
      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      // The schema name is made here of [a-z0-9_] only.
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  },
};

/** (a): the common path and the bare baseline, rounds alternating, with their ratio. */
async function measureCommonPath(
  load: LoadSettings,
  users: readonly NewsClient[],
  sql: PgSql,
  cluster: Cluster,
): Promise<void> {
  const baseline = await startNdjsonBaseline();
  const processes = {
    agent: () => [cluster.agentPid],
    nodes: () => cluster.nodes.map((node) => node.server.pid),
    postgres: () => backendPids(sql, cluster.applicationName),
  };
  const bareProcesses = { agent: () => [baseline.agentPid], nodes: () => [baseline.nodePid] };
  try {
    if (load.warmupSeconds > 0) {
      progress(`warming up for ${load.warmupSeconds} s`);
      await baselinePath(baseline.agent, load.warmupSeconds);
      await commonPath(users, load.warmupSeconds);
    }
    const rounds: Result[] = [];
    const baselineRounds: Result[] = [];
    for (let round = 1; round <= load.rounds; round++) {
      progress(`round ${round}/${load.rounds}: ${load.durationSeconds} s each`);
      baselineRounds.push(
        await withCpu(bareProcesses, () => baselinePath(baseline.agent, load.durationSeconds)),
      );
      rounds.push(await withCpu(processes, () => commonPath(users, load.durationSeconds)));
    }
    const ratios = rounds.map(
      (r, i) => r.opsPerSecond / (baselineRounds[i]?.opsPerSecond ?? Number.NaN),
    );
    const agora = medianOf(rounds);
    const bare = medianOf(baselineRounds);
    process.stdout.write(
      `(a) common path (route + read unread or post, half each), ${clients} concurrent ` +
        `clients, medians of ${load.rounds} runs of ${load.durationSeconds} s:\n` +
        `    agora:    ${describe(agora)}\n` +
        `    baseline: ${describe(bare)} (bare NDJSON agent + node, no database)\n` +
        `    ratio ${(agora.opsPerSecond / bare.opsPerSecond).toFixed(2)}; per round: ` +
        `${ratios.map((r) => r.toFixed(2)).join(', ')}; agora per run: ` +
        `${rounds.map((r) => r.opsPerSecond.toFixed(0)).join(', ')} ops/s\n` +
        `    CPU µs/op per round (client = this process):\n` +
        rounds
          .map(
            (r, i) => `      agora ${describeCpu(r)}; baseline ${describeCpu(baselineRounds[i])}\n`,
          )
          .join('') +
        '\n',
    );
  } finally {
    await baseline.stop();
  }
}

async function startCluster(databaseUrl: string, schema: string): Promise<Cluster> {
  const env = {
    ...process.env,
    // node-postgres names its connections so; the benchmark finds their backends by it.
    PGAPPNAME: schema,
    DATABASE_URL: databaseUrl,
    AGORA_DB_SCHEMA: schema,
    NEWS_AREA_REPLICAS: '1',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
  const start = async (service: string, port: number, adminVariable: string) => {
    const adminPort = await freePort();
    return startServer(service, {
      args: [agoraCli, 'run', service, '--port', String(port)],
      env: { ...env, [adminVariable]: String(adminPort) },
      url: `127.0.0.1:${port}`,
      readyUrl: `http://127.0.0.1:${adminPort}/readyz`,
    });
  };
  const agentPort = await freePort();
  const agent = await start('news-agent', agentPort, 'NEWS_AGENT_ADMIN_PORT');
  const nodes: Cluster['nodes'] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const server = await start('news-node', port, 'NEWS_NODE_ADMIN_PORT');
    nodes.push({ address: `127.0.0.1:${port}`, port, server });
  }
  return {
    agent: agent.url,
    agentPid: agent.pid,
    applicationName: schema,
    nodes,
    startNode: (port) => start('news-node', port, 'NEWS_NODE_ADMIN_PORT'),
    stop: async () => {
      await Promise.all(nodes.map((node) => node.server.stop()));
      await agent.stop();
    },
  };
}

async function prepare(sql: PgSql, agent: string): Promise<NewsClient[]> {
  await createAdmin(sql, 'bench-admin', 'bench-admin-password');
  const admin = new NewsClient({ agent });
  await admin.login('bench-admin', 'bench-admin-password');
  for (let i = 0; i < areaCount; i++) await admin.addArea(`area-${i}`);
  const users: NewsClient[] = [];
  // A few at a time: each registration costs two scrypt hashes on the agent's thread pool.
  for (let first = 0; first < clients; first += 5) {
    const batch = Array.from({ length: Math.min(5, clients - first) }, async (_, offset) => {
      const index = first + offset;
      const user = new NewsClient({ agent, retryForMs: 10_000 });
      await user.register(`user-${index}`, `password-${index}`);
      for (let i = 0; i < areaCount; i++) await user.subscribe(`area-${i}`);
      return user;
    });
    users.push(...(await Promise.all(batch)));
  }
  return users;
}

interface Result {
  opsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
  /** CPU time per operation of each process (group), in µs. */
  cpuPerOp?: Record<string, number>;
  operations: number;
  /** News items a read of unread news returned, on average. */
  itemsPerRead?: number;
}

type Pids = () => readonly number[] | Promise<readonly number[]>;

/**
 * Runs `work` and adds the CPU time per operation of each group of processes (utime + stime
 * from /proc) and of this process. A process that exits during the run is not counted; one
 * that starts during it (a Postgres backend) is counted from its start.
 */
async function withCpu(groups: Record<string, Pids>, work: () => Promise<Result>): Promise<Result> {
  const sample = async () => {
    const cpu = new Map<string, Map<number, number>>();
    for (const [name, pids] of Object.entries(groups)) {
      cpu.set(name, new Map((await pids()).map((pid) => [pid, readCpuMs(pid) ?? 0])));
    }
    return cpu;
  };
  const before = await sample();
  const ownBefore = process.cpuUsage();
  const result = await work();
  const own = process.cpuUsage(ownBefore);
  const after = await sample();
  const cpuPerOp: Record<string, number> = {
    client: (own.user + own.system) / result.operations,
  };
  for (const [name, pids] of after) {
    let ms = 0;
    for (const [pid, end] of pids) ms += end - (before.get(name)?.get(pid) ?? 0);
    cpuPerOp[name] = (ms * 1000) / result.operations;
  }
  return { ...result, cpuPerOp };
}

function describeCpu(result: Result | undefined): string {
  const cpu = result?.cpuPerOp ?? {};
  const parts = Object.entries(cpu).map(([name, us]) => `${name} ${us.toFixed(0)}`);
  const total = Object.values(cpu).reduce((sum, us) => sum + us, 0);
  const items =
    result?.itemsPerRead === undefined ? '' : `, ${result.itemsPerRead.toFixed(1)} items per read`;
  return `${parts.join(', ')} (total ${total.toFixed(0)})${items}`;
}

function medianOf(results: readonly Result[]): Result {
  const sorted = [...results].sort((a, b) => a.opsPerSecond - b.opsPerSecond);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (median === undefined) throw new Error('no runs to take a median of');
  return median;
}

function describe(result: Result): string {
  return (
    `${result.opsPerSecond.toFixed(0)} operations/s, p50 ${result.p50.toFixed(1)} ms, ` +
    `p99 ${result.p99.toFixed(1)} ms, ${result.failures} failures`
  );
}

interface NdjsonBaseline {
  agent: string;
  agentPid: number;
  nodePid: number;
  stop(): Promise<void>;
}

/** Two bare NDJSON servers: the "agent" routes every area to the "node". */
async function startNdjsonBaseline(): Promise<NdjsonBaseline> {
  const node = `127.0.0.1:${await freePort()}`;
  const agent = `127.0.0.1:${await freePort()}`;
  const children = [
    spawn(process.execPath, [baselineScript, node.split(':')[1] ?? '', node], { stdio: 'ignore' }),
    spawn(process.execPath, [baselineScript, agent.split(':')[1] ?? '', node], { stdio: 'ignore' }),
  ];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) resolve();
            else
              child
                .once('exit', () => {
                  resolve();
                })
                .kill('SIGTERM');
          }),
      ),
    );
  };
  for (const address of [node, agent]) {
    for (let waited = 0; ; waited += 20) {
      try {
        await callNews(address, { op: 'ping' }, { timeoutMs: 1_000 });
        break;
      } catch (error) {
        if (waited > 10_000) {
          await stop();
          throw error;
        }
        await sleep(20);
      }
    }
  }
  return { agent, agentPid: children[1]?.pid ?? 0, nodePid: children[0]?.pid ?? 0, stop };
}

/** The common path's connections and frames against the bare servers: route, then the op. */
async function baselinePath(agent: string, seconds: number): Promise<Result> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, index) => {
      for (let op = 0; performance.now() < until; op++) {
        const area = `area-${(index + op) % areaCount}`;
        const begin = performance.now();
        try {
          const { node } = await callNews<{ node: string }>(agent, {
            op: 'route',
            area,
            token: 'bench',
          });
          if (op % 2 === 0) {
            await callNews(node, { op: 'post', area, text: `news ${index}.${op}`, token: 'x' });
          } else {
            await callNews(node, { op: 'news', area, unread: true, token: 'x' });
          }
          latencies.push(performance.now() - begin);
        } catch {
          failures += 1;
        }
      }
    }),
  );
  return summarize(latencies, failures, started);
}

function summarize(latencies: number[], failures: number, started: number): Result {
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    opsPerSecond: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    failures,
    operations: latencies.length,
  };
}

async function commonPath(users: readonly NewsClient[], seconds: number): Promise<Result> {
  const latencies: number[] = [];
  let failures = 0;
  let reads = 0;
  let itemsRead = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    users.map(async (user, index) => {
      for (let op = 0; performance.now() < until; op++) {
        const area = `area-${(index + op) % areaCount}`;
        const begin = performance.now();
        try {
          if (op % 2 === 0) await user.post(area, `news ${index}.${op}`);
          else {
            itemsRead += (await user.read(area, true)).length;
            reads += 1;
          }
          latencies.push(performance.now() - begin);
        } catch {
          failures += 1;
        }
      }
    }),
  );
  return { ...summarize(latencies, failures, started), itemsPerRead: itemsRead / reads };
}

/** Kills the node with the most areas, times the recovery of all of them, restarts it. */
async function failover(sql: PgSql, cluster: Cluster, user: NewsClient): Promise<number> {
  const { rows } = await sql.query<{ node: string; areas: string[] }>(
    `SELECT s.node_address AS node, array_agg(a.name) AS areas FROM news_assignments s
     JOIN news_areas a ON a.id = s.area_id GROUP BY s.node_address ORDER BY count(*) DESC LIMIT 1`,
  );
  const victim = cluster.nodes.find((node) => node.address === rows[0]?.node);
  const areas = rows[0]?.areas ?? [];
  if (victim === undefined) throw new Error('no node serves any area');
  const probe = new NewsClient({ agent: cluster.agent, token: user.token, retryForMs: 30_000 });

  process.kill(victim.server.pid, 'SIGKILL');
  const killed = performance.now();
  await Promise.all(areas.map((area) => probe.read(area, true)));
  const elapsed = performance.now() - killed;

  victim.server = await cluster.startNode(victim.port);
  // Wait until it has been given areas again, so the next round starts from a full cluster.
  for (let waited = 0; waited < 30_000; waited += 100) {
    const { rowCount } = await sql.query('SELECT 1 FROM news_assignments WHERE node_address = $1', [
      victim.address,
    ]);
    if (rowCount > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return elapsed;
}
