/**
 * The tasks benchmark of issue 6: `POST /tasks` by 2 clients x 10,000 tasks (each with its own
 * idempotency key, as the emulator sends them), against one tasks process, three cluster
 * workers on one port, and the bare node:http baseline, in the same run. Real Postgres, a
 * schema per server, dropped afterwards. Prints tasks/s and HDR p50/p90/p99 per server.
 */
import { randomBytes } from 'node:crypto';

import { build, type Histogram } from 'hdr-histogram-js';
import pg from 'pg';
import { Pool } from 'undici';

import { startBaseline } from '../support/baseline.js';
import { type Benchmark, progress } from '../support/benchmark.js';
import { agoraCli, freePort, type ServerProcess, startServer } from '../support/server-process.js';

const clients = 2;
const tasksPerClient = 10_000;
/**
 * Per client, before the rounds: enough that every cluster worker has answered thousands of
 * requests. After 2 x 500 each of three workers had seen about 330 and its code was not yet
 * optimised; its first rounds cost twice the CPU per task of a warm worker (README).
 */
const warmupTasks = 10_000;

interface Contender {
  name: string;
  start(): Promise<ServerProcess>;
}

interface Run {
  tasks: number;
  seconds: number;
  failed: number;
  latency: Histogram;
}

export const tasksBenchmark: Benchmark = {
  name: 'tasks',
  description:
    'POST /tasks, 2 clients x 10,000 tasks: one tasks process, three cluster workers, node:http',
  run: async (load) => {
    const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    const run = randomBytes(3).toString('hex');
    const schemas: string[] = [];
    const tasksServer = (workers: number): Contender => ({
      name: workers === 1 ? 'tasks x1' : `tasks x${workers} (cluster)`,
      start: async () => {
        const schema = `bench_tasks_${run}_${workers}`;
        schemas.push(schema);
        const port = await freePort();
        const base = `http://127.0.0.1:${port}`;
        const cluster = workers === 1 ? [] : ['--cluster', String(workers)];
        return startServer(`tasks x${workers}`, {
          args: [agoraCli, 'run', 'tasks', '--port', String(port), ...cluster],
          env: {
            ...process.env,
            DATABASE_URL: databaseUrl,
            AGORA_DB_SCHEMA: schema,
            LOG_LEVEL: 'warn',
          },
          url: `${base}/tasks`,
          readyUrl: `${base}/readyz`,
          readyTimeoutMs: 60_000,
        });
      },
    });
    const contenders: Contender[] = [
      { name: 'baseline', start: startBaseline },
      tasksServer(1),
      tasksServer(3),
    ];
    // Concurrency per client: the suite's --connections, shared by the two clients.
    const concurrency = Math.max(1, Math.floor(load.connections / clients));
    try {
      await admin.query('SELECT 1');
      const runs = contenders.map((): Run[] => []);
      const servers: ServerProcess[] = [];
      try {
        for (const contender of contenders) {
          progress(`starting ${contender.name}`);
          servers.push(await contender.start());
        }
        for (const [index, server] of servers.entries()) {
          progress(`warming up ${contenders[index]?.name} with ${clients} x ${warmupTasks} tasks`);
          await sendAll(server.url, `warm${index}`, warmupTasks, concurrency);
        }
        // Servers alternate round by round, so this shared machine's drift hits them alike.
        for (let round = 1; round <= load.rounds; round++) {
          for (const [index, server] of servers.entries()) {
            progress(`round ${round}/${load.rounds}: ${contenders[index]?.name}`);
            runs[index]?.push(await sendAll(server.url, `r${round}`, tasksPerClient, concurrency));
          }
        }
      } finally {
        await Promise.all(servers.map((server) => server.stop()));
      }
      printTable(
        contenders.map((contender, index) => [contender.name, median(runs[index] ?? [])]),
        concurrency,
        load.rounds,
      );
    } finally {
      for (const schema of schemas) {
        await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      }
      await admin.end();
    }
  },
};

/** Two clients side by side, each sending `tasks` POSTs with `concurrency` in flight. */
async function sendAll(
  url: string,
  label: string,
  tasks: number,
  concurrency: number,
): Promise<Run> {
  const latency = build({ numberOfSignificantValueDigits: 3, autoResize: true });
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: clients }, (_, index) =>
      sendOneClient(url, `bench-${label}-${index + 1}`, tasks, concurrency, latency),
    ),
  );
  return {
    tasks: counts.reduce((sum, count) => sum + count.ok, 0),
    failed: counts.reduce((sum, count) => sum + count.failed, 0),
    seconds: (performance.now() - started) / 1000,
    latency,
  };
}

async function sendOneClient(
  url: string,
  clientId: string,
  tasks: number,
  concurrency: number,
  latency: Histogram,
): Promise<{ ok: number; failed: number }> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: concurrency });
  let next = 1;
  let ok = 0;
  let failed = 0;
  const lane = async () => {
    while (next <= tasks) {
      const index = next++;
      const started = performance.now();
      try {
        const response = await pool.request({
          path: target.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-client-id': clientId,
            'idempotency-key': `task-${index}`,
          },
          body: JSON.stringify({ title: `Task ${index} from ${clientId}` }),
        });
        await response.body.dump();
        if (response.statusCode >= 200 && response.statusCode < 300) ok += 1;
        else failed += 1;
      } catch {
        failed += 1;
      }
      latency.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    await pool.close();
  }
  return { ok, failed };
}

function median(runs: readonly Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.tasks / a.seconds - b.tasks / b.seconds);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  if (middle === undefined) throw new Error('no runs to take a median of');
  return middle;
}

function printTable(rows: readonly [string, Run][], concurrency: number, rounds: number): void {
  const rate = (run: Run) => run.tasks / run.seconds;
  const base = rows[0]?.[1];
  const ms = (run: Run, percentile: number) =>
    `${(run.latency.getValueAtPercentile(percentile) / 1000).toFixed(1)} ms`;
  const header = ['server', 'tasks/s', 'p50', 'p90', 'p99', 'failed', 'tasks/s vs baseline'];
  const lines = rows.map(([name, run]) => [
    name,
    Math.round(rate(run)).toLocaleString('en-US'),
    ms(run, 50),
    ms(run, 90),
    ms(run, 99),
    String(run.failed),
    base === undefined ? '-' : `${(rate(run) / rate(base)).toFixed(2)}x`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column]?.length ?? 0)),
  );
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  process.stdout.write(
    `POST /tasks: ${clients} clients x ${tasksPerClient.toLocaleString('en-US')} tasks, ` +
      `${concurrency} in flight per client, median of ${rounds} round(s) per server after a ` +
      `${clients} x ${warmupTasks} warm-up; latency from send to answer; the clients, servers and ` +
      `Postgres share this machine; node ${process.version}\n\n` +
      [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join(
        '\n',
      ) +
      '\n',
  );
}
