/**
 * What each service costs before any load: `agora run <service>` against real Redis and
 * Postgres, from spawn to its first 200 on /readyz (wall time and the CPU it took), and its
 * resident memory once it has rested; beside the bare node:http server, in the same rounds.
 * Then the CPU of the short commands a container runs often (`agora health`, `agora services`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { formatTable } from '../../src/platform/table.js';
import { services } from '../../src/services.js';
import { type Benchmark, progress } from '../support/benchmark.js';
import { readCpuMs, readMemory } from '../support/report.js';
import { agoraCli, freePort, type ServerProcess, startServer } from '../support/server-process.js';

const baselineScript = fileURLToPath(new URL('../support/baseline-server.js', import.meta.url));
/** How long a started server idles before its memory is read ("at rest"). */
const restMs = 1_500;

interface Start {
  readyMs: number;
  cpuMs: number | undefined;
  rssMb: number | undefined;
}

interface Candidate {
  name: string;
  start(): Promise<ServerProcess>;
}

export const startupBenchmark: Benchmark = {
  name: 'startup',
  description: 'each service alone: time and CPU to ready, memory at rest; agora health CPU',
  run: async (load) => {
    const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const run = randomBytes(3).toString('hex');
    const schema = `bench_startup_${run}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      AGORA_DB_SCHEMA: schema,
      AGORA_REDIS_PREFIX: `bench-startup-${run}:`,
      AGORA_NEWS_SECRET: randomBytes(32).toString('hex'),
      // Vote refuses a missing or published secret outside development mode.
      AGORA_VOTE_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
    };
    const candidates: Candidate[] = [
      {
        name: 'node:http (baseline)',
        start: async () => {
          const port = await freePort();
          const url = `http://127.0.0.1:${port}`;
          return startServer('baseline', {
            args: [baselineScript, String(port)],
            url,
            readyUrl: `${url}/readyz`,
            pollMs: 5,
          });
        },
      },
      ...services.map((service): Candidate => ({
        name: service.name,
        start: async () => {
          const port = await freePort();
          const adminPort = service.admin === undefined ? undefined : await freePort();
          const health = `http://127.0.0.1:${adminPort ?? port}`;
          return startServer(service.name, {
            args: [agoraCli, 'run', service.name, '--port', String(port)],
            env: {
              ...env,
              ...(service.admin === undefined || adminPort === undefined
                ? {}
                : { [service.admin.variable]: String(adminPort) }),
            },
            url: health,
            readyUrl: `${health}/readyz`,
            readyTimeoutMs: 60_000,
            pollMs: 5,
          });
        },
      })),
    ];

    const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    try {
      // A discarded first round applies the migrations and warms the file cache.
      const starts = candidates.map((): Start[] => []);
      for (let round = 0; round <= load.rounds; round++) {
        progress(round === 0 ? 'warm-up round' : `round ${round} of ${load.rounds}`);
        for (const [index, candidate] of candidates.entries()) {
          const measured = await measureStart(candidate);
          if (round > 0) starts[index]?.push(measured);
        }
      }
      const rows = candidates.map((candidate, index) => {
        const of = starts[index] ?? [];
        return [
          candidate.name,
          `${median(of.map((start) => start.readyMs)).toFixed(0)} ms`,
          formatMs(median(of.flatMap((start) => start.cpuMs ?? []))),
          formatMb(median(of.flatMap((start) => start.rssMb ?? []))),
        ];
      });
      process.stdout.write(
        `\nStart-up, medians of ${load.rounds} rounds (rest ${restMs} ms before the memory is read)\n` +
          `${formatTable(['server', 'to ready', 'CPU to ready', 'RSS at rest'], rows)}\n`,
      );

      const commands = [['health', 'counter'], ['services']];
      const commandRows = [];
      for (const args of commands) {
        const times: CommandTime[] = [];
        for (let round = 0; round < load.rounds; round++) times.push(await timeCommand(args, env));
        commandRows.push([
          `agora ${args.join(' ')}`,
          formatMs(median(times.map((time) => time.wallMs))),
          formatMs(median(times.map((time) => time.cpuMs))),
        ]);
      }
      process.stdout.write(
        `\nShort commands, medians of ${load.rounds} runs\n` +
          `${formatTable(['command', 'wall', 'CPU'], commandRows)}\n`,
      );
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin.end();
    }
  },
};

/** Starts a candidate, again on fresh ports when one was taken meanwhile (a shared machine). */
async function startTimed(
  candidate: Candidate,
): Promise<{ server: ServerProcess; readyMs: number }> {
  for (let attempt = 1; ; attempt++) {
    const began = performance.now();
    try {
      const server = await candidate.start();
      return { server, readyMs: performance.now() - began };
    } catch (error) {
      if (attempt === 3 || !String(error).includes('EADDRINUSE')) throw error;
      progress(`${candidate.name}: a port was taken meanwhile; starting it again`);
    }
  }
}

async function measureStart(candidate: Candidate): Promise<Start> {
  const { server, readyMs } = await startTimed(candidate);
  try {
    const cpuMs = readCpuMs(server.pid);
    await sleep(restMs);
    const memory = readMemory(server.pid);
    return { readyMs, cpuMs, rssMb: memory === undefined ? undefined : memory.rssKb / 1024 };
  } finally {
    await server.stop();
  }
}

interface CommandTime {
  wallMs: number;
  cpuMs: number;
}

/** Runs `agora <args>` to its end; bash's `time` gives its user and system CPU. */
function timeCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandTime> {
  return new Promise((resolve, reject) => {
    const script = `TIMEFORMAT='%R %U %S'; time "$0" "$@" >/dev/null 2>&1`;
    const child = spawn('bash', ['-c', script, process.execPath, agoraCli, ...args], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.once('error', reject);
    child.once('close', () => {
      const [wall, user, system] = output.trim().split(/\s+/).slice(-3).map(Number);
      if (wall === undefined || user === undefined || system === undefined || Number.isNaN(wall)) {
        reject(new Error(`could not time agora ${args.join(' ')}: ${output}`));
        return;
      }
      resolve({ wallMs: wall * 1_000, cpuMs: (user + system) * 1_000 });
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function formatMs(value: number): string {
  return Number.isNaN(value) ? '-' : `${value.toFixed(0)} ms`;
}

function formatMb(value: number): string {
  return Number.isNaN(value) ? '-' : `${value.toFixed(1)} MB`;
}
