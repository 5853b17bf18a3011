/**
 * The news benchmark of issue 5, against real Postgres in a schema of its own (dropped after):
 * an agent and three nodes as processes (`agora run`), 50 users each with their own client.
 * (a) the common path, route via the agent then read or post on the node, 50 concurrent
 * clients: operations/s and p50/p99; (b) failover: SIGKILL a node, time until an operation
 * on each of its areas succeeds again (one node per area, so its areas must move).
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { createAdmin } from '../../src/news/accounts.js';
import { NewsClient } from '../../src/news/client/client.js';
import { PgSql } from '../../src/platform/sql/index.js';
import { type Benchmark, progress } from '../support/benchmark.js';
import { agoraCli, freePort, type ServerProcess, startServer } from '../support/server-process.js';

const clients = 50;
const areaCount = 12;
const failoverRounds = 3;

interface Cluster {
  agent: string;
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
      if (load.warmupSeconds > 0) {
        progress(`warming up for ${load.warmupSeconds} s`);
        await commonPath(users, load.warmupSeconds);
      }
      const rounds: Result[] = [];
      for (let round = 1; round <= load.rounds; round++) {
        progress(`round ${round}/${load.rounds}: ${load.durationSeconds} s`);
        rounds.push(await commonPath(users, load.durationSeconds));
      }
      rounds.sort((a, b) => a.opsPerSecond - b.opsPerSecond);
      const median = rounds[Math.floor(rounds.length / 2)] ?? rounds[0];
      if (median !== undefined) {
        process.stdout.write(
          `(a) common path (route + read unread or post, half each), ${clients} concurrent ` +
            `clients, median of ${load.rounds} runs of ${load.durationSeconds} s:\n` +
            `    ${median.opsPerSecond.toFixed(0)} operations/s, p50 ${median.p50.toFixed(1)} ms, ` +
            `p99 ${median.p99.toFixed(1)} ms, ${median.failures} failures\n` +
            `    per run: ${rounds.map((r) => r.opsPerSecond.toFixed(0)).join(', ')} ops/s\n\n`,
        );
      }
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

async function startCluster(databaseUrl: string, schema: string): Promise<Cluster> {
  const env = {
    ...process.env,
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
}

async function commonPath(users: readonly NewsClient[], seconds: number): Promise<Result> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    users.map(async (user, index) => {
      for (let op = 0; performance.now() < until; op++) {
        const area = `area-${(index + op) % areaCount}`;
        const begin = performance.now();
        try {
          if (op % 2 === 0) await user.post(area, `news ${index}.${op}`);
          else await user.read(area, true);
          latencies.push(performance.now() - begin);
        } catch {
          failures += 1;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { opsPerSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), failures };
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
