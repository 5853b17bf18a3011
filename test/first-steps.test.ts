/**
 * The root README's first steps, walked as a newcomer does, through the agora command: start
 * everything embedded on a fresh data directory, vote and see it counted, load the election
 * and see the verification pass, log in as the admin the first start printed, add an area,
 * post and read news, add and finish a task; stop, start again and find everything there; then
 * a SIGKILL and a start that warns of nothing (not of its own previous node as dead).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, afterEach, expect, it } from 'vitest';

import { envNameOf } from '../src/platform/platform-settings.js';
import { services } from '../src/services.js';
import {
  agoraCli,
  freePort,
  killAll,
  type ManagedProcess,
  startProcess,
} from './support/processes.js';

const run = promisify(execFile);
let dataDir = '';

afterEach(() => killAll());
afterAll(async () => {
  if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
});

/** Free ports for every service and admin port, and the URLs the CLI's clients read. */
async function newcomerEnv(): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: 'json' };
  delete env.REDIS_URL;
  delete env.DATABASE_URL;
  delete env.LOG_LEVEL;
  delete env.AGORA_VOTE_SECRET;
  for (const service of services) {
    const port = await freePort();
    const name = envNameOf(service.name);
    env[`AGORA_${name}_PORT`] = String(port);
    const scheme = service.name.startsWith('news') ? 'tcp' : 'http';
    env[`AGORA_${name}_URL`] =
      service.name === 'election-grpc' ? `127.0.0.1:${port}` : `${scheme}://127.0.0.1:${port}`;
    if (service.admin !== undefined) env[service.admin.variable] = String(await freePort());
  }
  env.AGORA_DATA_DIR = dataDir;
  env.AGORA_NEWS_CONFIG = join(dataDir, '..', `${dataDir.split('/').pop() ?? 'x'}-news.json`);
  return env;
}

async function agora(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run(process.execPath, [agoraCli, ...args], { env });
  return stdout;
}

async function startUp(env: NodeJS.ProcessEnv): Promise<ManagedProcess> {
  const up = startProcess(process.execPath, [agoraCli, 'up'], { env });
  await up.waitForOutput(/Agora is up/, 120_000);
  return up;
}

/** Lines at warn level or above, but the development vote secret's notice. */
function warnings(up: ManagedProcess): string[] {
  return `${up.stdout()}\n${up.stderr()}`
    .split('\n')
    .filter((line) => /"level":(40|50|60)/.test(line) && !line.includes('AGORA_VOTE_SECRET'));
}

it('walks the README first steps, and finds everything again after a stop and a crash', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agora-first-steps-'));
  const env = await newcomerEnv();
  const vote = env.AGORA_VOTE_URL as string;
  const result = env.AGORA_RESULT_URL as string;

  const first = await startUp(env);
  const password = /news: first admin "admin", password (\S+) \(shown once\)/.exec(first.stdout());
  expect(password).not.toBeNull();

  // A browser's vote is answered with a redirect to the page; the result counts it.
  const voted = await fetch(vote, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: 'vote=a',
    redirect: 'manual',
  });
  expect(voted.status).toBe(303);
  await expect
    .poll(
      async () =>
        ((await (await fetch(`${result}/api/results`)).json()) as { total: number }).total,
      {
        timeout: 30_000,
      },
    )
    .toBe(1);

  const load = await agora(['load', 'election', '-n', '300', '-r', '300'], env);
  expect(load).toMatch(/store: +embedded PGlite/);
  expect(load).toMatch(/result: PASSED \(exit code 0\)/);

  const asAdmin = { ...env, AGORA_NEWS_PASSWORD: password?.[1] };
  expect(await agora(['news', 'login', 'admin'], asAdmin)).toBe('Logged in as admin (admin).\n');
  // Empty lists say so, before anything is in them.
  expect(await agora(['news', 'areas'], env)).toBe('No areas.\n');
  expect(await agora(['tasks', 'list'], env)).toMatch(/^No tasks yet\. Add one with: /);
  await agora(['news', 'admin', 'add-area', 'sports'], env);
  await agora(['news', 'subscribe', 'sports'], env);
  expect(await agora(['news', 'post', 'sports', 'Match at five'], env)).toMatch(/^Posted #\d+/);
  expect(await agora(['news', 'read', 'sports'], env)).toMatch(/admin\n {2}Match at five\n$/);

  const id = /\d+/.exec(await agora(['tasks', 'add', 'Buy bread'], env))?.[0] ?? '';
  await agora(['tasks', 'done', id], env);
  expect(await agora(['tasks', 'list'], env)).toMatch(/Buy bread/);

  first.kill('SIGINT');
  expect(await first.exited).toEqual({ code: 0, signal: null });

  // Everything is still there, and the admin was made once only.
  const second = await startUp(env);
  expect(second.stdout()).not.toContain('first admin');
  const results = (await (await fetch(`${result}/api/results`)).json()) as { total: number };
  expect(results.total).toBe(1);
  expect(await agora(['news', 'read', 'sports'], env)).toContain('Match at five');
  const { tasks } = JSON.parse(await agora(['tasks', 'list', '--json'], env)) as {
    tasks: { title: string; done: boolean }[];
  };
  expect(tasks).toContainEqual(expect.objectContaining({ title: 'Buy bread', done: true }));

  // A crash, then a start that says nothing is wrong: its own news node is not "dead".
  second.kill('SIGKILL');
  await second.exited;
  const third = await startUp(env);
  expect(await agora(['news', 'read', 'sports'], env)).toContain('Match at five');
  expect(warnings(third)).toEqual([]);
  third.kill('SIGINT');
  expect(await third.exited).toEqual({ code: 0, signal: null });
  expect(warnings(third)).toEqual([]);
}, 400_000);
