/**
 * The agora command as a user runs it: up (embedded and distributed) starts every service and
 * stops cleanly on Ctrl-C; bad settings and missing backends end in one readable line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterEach, describe, expect, it } from 'vitest';

import { envNameOf } from '../src/platform/platform-settings.js';
import { services } from '../src/services.js';
import { testRedisUrl } from './support/backends.js';
import {
  agoraCli,
  freePort,
  killAll,
  repoRoot,
  startProcess,
  waitForHttp,
} from './support/processes.js';

const run = promisify(execFile);

/** The environment without the test run's backends, so `up` really runs embedded. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: 'json' };
  delete env.REDIS_URL;
  delete env.DATABASE_URL;
  return { ...env, ...extra };
}

/** A free port for every service, and for every admin port; `readyz` maps a service to its. */
async function portsForEveryService() {
  const env: Record<string, string> = {};
  const readyz = new Map<string, string>();
  for (const service of services) {
    const port = String(await freePort());
    env[`AGORA_${envNameOf(service.name)}_PORT`] = port;
    readyz.set(service.name, `http://127.0.0.1:${port}/readyz`);
    if (service.admin === undefined) continue;
    const adminPort = String(await freePort());
    env[service.admin.variable] = adminPort;
    readyz.set(service.name, `http://127.0.0.1:${adminPort}/readyz`);
  }
  return { env, readyz };
}

async function agora(args: string[], env: NodeJS.ProcessEnv) {
  return command(process.execPath, [agoraCli, ...args], env);
}

/** Runs a command in the repository's root; resolves with its exit code and output. */
async function command(file: string, args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await run(file, args, { env, cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => killAll());

describe('agora up', () => {
  it('starts every service embedded, each ready, and stops on SIGINT with exit code 0', async () => {
    const { env: ports, readyz } = await portsForEveryService();
    const dataDir = await mkdtemp(join(tmpdir(), 'agora-up-'));
    // With the console, as a newcomer's `npm start` runs it (the test run turns it off).
    const consolePort = String(await freePort());
    const up = startProcess(process.execPath, [agoraCli, 'up'], {
      env: cleanEnv({
        ...ports,
        AGORA_DATA_DIR: dataDir,
        AGORA_CONSOLE: 'true',
        AGORA_CONSOLE_PORT: consolePort,
      }),
    });
    // Eleven services migrate five schemas in one embedded PGlite: allow a slow machine.
    await up.waitForOutput(/Agora is up/, 90_000);
    expect(up.stdout()).toContain(`broker: embedded broker, ${dataDir}/broker/broker.log\n`);
    expect(up.stdout()).toContain(`sql: embedded PGlite, ${dataDir}\n`);
    expect(up.stdout()).toContain(`console: http://127.0.0.1:${consolePort}/  (actions need`);
    // The table says what backs each service, not only which kinds of backend it needs.
    // ... and where its admin port (/metrics, the full /readyz) answers.
    expect(up.stdout()).toMatch(
      new RegExp(
        `\\bcounter\\s+counter\\s+\\S+\\s+http://127\\.0\\.0\\.1:${ports.COUNTER_ADMIN_PORT}\\s+embedded broker\\n`,
      ),
    );
    expect(up.stdout()).toMatch(
      /\bresult\s+voting\s+\S+\s+http:\S+\s+embedded broker, embedded PGlite\n/,
    );
    expect(up.stdout()).toMatch(/\bworker\s+voting\s+\S+\s+-\s+embedded broker, embedded PGlite\n/);
    // The table comes once every service is ready: no waiting after it.
    for (const url of readyz.values()) expect((await fetch(url)).status).toBe(200);
    // What it printed before the table are warnings only (the development vote secret), one
    // record each: no "Server listening" line per service, nor the console's.
    const before = up.stdout().slice(0, up.stdout().indexOf('service '));
    const records = before.split('\n').filter((line) => line !== '');
    expect(records.map((line) => (JSON.parse(line) as { level: number }).level)).toEqual([40]);
    expect(records[0]).toMatch(/AGORA_VOTE_SECRET=/);
    // The first start makes the news admin and says so once.
    expect(up.stdout()).toMatch(/news: first admin "admin", password \S+ \(shown once\)/);

    up.kill('SIGINT');
    expect(await up.exited).toEqual({ code: 0, signal: null });
    for (const port of Object.values(ports)) {
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }
  }, 180_000);

  it('runs one process per replica with --distributed and stops them all on SIGINT', async () => {
    const basePort = await freePort([1, 100, 101]);
    const up = startProcess(
      process.execPath,
      [agoraCli, 'up', 'counter', '--distributed', '--replicas', 'counter=2'],
      { env: cleanEnv({ REDIS_URL: testRedisUrl, AGORA_COUNTER_PORT: String(basePort) }) },
    );
    await up.waitForOutput(/Agora is up/, 20_000);
    const rows = [...up.stdout().matchAll(/counter#\d\s+\S+\s+(\S+)\s+(\d+)/g)];
    const pids = rows.map((m) => Number(m[2]));
    expect(pids).toHaveLength(2);
    // Each replica's admin port follows its own port, and the table says where.
    const admins = [basePort + 100, basePort + 101].map((port) => `http://127.0.0.1:${port}`);
    expect(rows.map((m) => m[1])).toEqual(admins);
    // The table comes once every process is ready.
    for (const port of [basePort, basePort + 1]) {
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    }
    for (const admin of admins) {
      expect(await (await fetch(`${admin}/metrics`)).text()).toContain('process_cpu_user_seconds');
    }

    up.kill('SIGINT');
    expect(await up.exited).toEqual({ code: 0, signal: null });
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('refuses --distributed in one line when Redis does not answer', async () => {
    const deadPort = await freePort();
    const result = await agora(
      ['up', '--distributed'],
      cleanEnv({ REDIS_URL: `redis://127.0.0.1:${deadPort}` }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `^agora: --distributed needs Redis, and nothing answers at redis://127.0.0.1:${deadPort}.*\\n$`,
      ),
    );
  });
});

/** What `agora up` and `npm start` print when the Agora of process `pid` holds `dataDir`. */
function runningRefusal(dataDir: string, pid: number | undefined): string {
  return `agora: Agora is already running on ${dataDir} (process ${pid}): use that one, stop it with Ctrl-C in its terminal, or set AGORA_DATA_DIR to another directory\n`;
}

it('refuses a second agora up or npm start on the same data directory, before it opens the data', async () => {
  const { env: ports } = await portsForEveryService();
  const dataDir = await mkdtemp(join(tmpdir(), 'agora-up-twice-'));
  const env = cleanEnv({ ...ports, AGORA_DATA_DIR: dataDir });
  const first = startProcess(process.execPath, [agoraCli, 'up', 'counter', 'tasks'], { env });
  await first.waitForOutput(/Agora is up/, 90_000);
  const refusal = runningRefusal(dataDir, first.pid);
  const second = await agora(['up', 'counter', 'tasks'], env);
  expect(second.code).toBe(1);
  expect(second.stderr).toBe(refusal);
  // npm start says it too, at once: its build would rewrite dist/ under the running one.
  const built = (await stat(agoraCli)).mtimeMs;
  const start = await command('npm', ['start', '--silent'], env);
  expect(start.code).toBe(1);
  expect(start.stderr).toContain(refusal);
  expect(start.stdout).not.toContain('Building');
  expect((await stat(agoraCli)).mtimeMs).toBe(built);
  const admin = await agora(['news', 'create-admin', 'root'], {
    ...env,
    AGORA_NEWS_PASSWORD: 'root-password',
  });
  expect(admin.code).toBe(2);
  expect(admin.stderr).toMatch(/^agora: Agora is running on .* and holds its database: .*\n$/);
  first.kill('SIGINT');
  expect(await first.exited).toEqual({ code: 0, signal: null });
}, 120_000);

it("npm start's guard lets a stale or unreadable pid file by, and stops at a live holder", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'agora-start-guard-'));
  const env = cleanEnv({ AGORA_DATA_DIR: dataDir });
  const guard = async (content: string) => {
    await writeFile(join(dataDir, 'agora.pid'), content);
    return command(process.execPath, ['scripts/start-guard.mjs'], env);
  };
  const holder = startProcess(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  try {
    // A pid no process has any more: the one of a child that has exited.
    const gone = startProcess(process.execPath, ['-e', '']);
    await gone.exited;
    for (const content of [`${gone.pid}\n`, 'not a pid\n', '-1', '', '12abc']) {
      expect(await guard(content), `pid file ${JSON.stringify(content)}`).toEqual({
        code: 0,
        stdout: '',
        stderr: '',
      });
    }
    const refused = await guard(`${holder.pid}\n`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(runningRefusal(dataDir, holder.pid));
  } finally {
    holder.kill('SIGKILL');
    await holder.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});

describe('one-line errors', () => {
  it.each([
    [
      ['run', 'counter'],
      { BIND_PORT: 'abc' },
      'agora: BIND_PORT must be a port number from 1 to 65535, got "abc"',
    ],
    [
      ['run', 'counter'],
      { REDIS_URL: 'http://example' },
      'agora: REDIS_URL must be a URL starting with redis:// or rediss://, got "http://example"',
    ],
    [
      ['up'],
      { LOG_LEVEL: 'loud' },
      'agora: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    [
      ['run', 'counter'],
      {},
      'agora: counter needs Redis: set REDIS_URL (or REDIS_HOST and REDIS_PORT), or pass --embedded',
    ],
    [
      ['run', 'nothing'],
      {},
      `agora: no service named "nothing"; known services: ${services.map((s) => s.name).join(', ')}`,
    ],
  ])('agora %j with %o', async (args, env, line) => {
    const result = await agora(args, cleanEnv(env));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`${line}\n`);
  });
});

describe('bad flags', () => {
  it.each([
    [['run', 'counter', '--port', 'abc'], "option '--port <number>' argument 'abc' is invalid"],
    [['up', '--distributed', '--replicas', 'worker=99'], "argument 'worker=99' is invalid"],
    [['up', '--replicas', 'vote=2'], '--replicas needs --distributed'],
    [['bogus'], "unknown command 'bogus'"],
  ])('agora %j says what is wrong in one line, with exit code 2', async (args, reason) => {
    const result = await agora(args, cleanEnv());
    expect(result.code).toBe(2);
    const [first, ...rest] = result.stderr.trimEnd().split('\n');
    expect(first).toContain(reason);
    expect(rest.filter((line) => line !== '(add --help for usage)')).toEqual([]);
  });
});

describe('help and status', () => {
  it.each([[[]], [['up']], [['run']], [['status']], [['services']]])(
    'agora %j --help describes the command',
    async (args) => {
      const result = await agora([...args, '--help'], cleanEnv());
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: agora/);
    },
  );

  it('status reports a running service as ready and a missing one as down', async () => {
    const port = await freePort([100]);
    startProcess(
      process.execPath,
      [agoraCli, 'run', 'counter', '--embedded', '--port', String(port)],
      {
        env: cleanEnv(),
      },
    );
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { status: 200, timeoutMs: 10_000 });

    const ready = await agora(
      ['status', 'counter', '--json'],
      cleanEnv({ AGORA_COUNTER_URL: `http://127.0.0.1:${port}` }),
    );
    expect(ready.code).toBe(0);
    const statuses = JSON.parse(ready.stdout) as {
      service: string;
      state: string;
      version: string;
    }[];
    expect(statuses).toHaveLength(1);
    expect(statuses[0]).toMatchObject({ service: 'counter', state: 'ready' });
    expect(statuses[0]?.version).toMatch(/^\d+\.\d+\.\d+$/);

    const deadPort = await freePort();
    const down = await agora(
      ['status', 'counter'],
      cleanEnv({ AGORA_COUNTER_URL: `http://127.0.0.1:${deadPort}` }),
    );
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/counter\s+\S+\s+down/);

    // Without a URL it asks the admin port of the counter's port, and says so.
    const admin = await agora(
      ['status', 'counter', '--json'],
      cleanEnv({ AGORA_COUNTER_PORT: String(port) }),
    );
    expect(admin.code).toBe(0);
    expect(JSON.parse(admin.stdout)).toMatchObject([
      { service: 'counter', url: `http://127.0.0.1:${port + 100}`, state: 'ready' },
    ]);
  });
});
