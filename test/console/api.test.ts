/**
 * The console's JSON API on a real distributed voting stack: what it shows (topology,
 * processes, queues, timeline) and what its actions do (kill, restart, scale, load), with the
 * token they need.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Snapshot } from '../../src/console/snapshot.js';
import { type ConsoleStack, stackEnv, startConsoleStack } from '../support/console-stack.js';
import { killAll, startAgora, waitFor } from '../support/processes.js';

let stack: ConsoleStack;

async function snapshot(): Promise<Snapshot> {
  const response = await fetch(`${stack.consoleUrl}/api/snapshot`);
  return (await response.json()) as Snapshot;
}

function post(path: string, body?: unknown, token: string | null = stack.token) {
  return fetch(`${stack.consoleUrl}${path}`, {
    method: 'POST',
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const processOf = (snap: Snapshot, label: string) => snap.processes.find((p) => p.label === label);

beforeAll(async () => {
  stack = await startConsoleStack(['vote', 'worker', 'result'], { VOTE_RECLAIM_IDLE_MS: '1000' });
  await waitFor(
    async () => {
      const snap = await snapshot();
      return snap.processes.length === 3 && snap.processes.every((p) => p.readiness === 'ready');
    },
    { timeoutMs: 30_000, message: 'every process ready in the console' },
  );
}, 60_000);

afterAll(async () => {
  await killAll();
});

describe('the console on agora up --distributed', () => {
  it('serves its page, and its icon at /favicon.ico too (browsers ask whatever it links)', async () => {
    const page = await fetch(stack.consoleUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('href="/favicon.svg"');
    for (const path of ['/favicon.svg', '/favicon.ico']) {
      const icon = await fetch(`${stack.consoleUrl}${path}`);
      expect(icon.status, path).toBe(200);
      expect(icon.headers.get('content-type'), path).toMatch(/^image\/svg\+xml/);
    }
  });

  it('shows the topology, each process and the votes stream', async () => {
    const snap = await waitFor(
      async () => {
        const current = await snapshot();
        const figured = current.processes.every(
          (p) => p.rssBytes !== undefined && p.cpuPercent !== undefined,
        );
        return figured ? current : undefined;
      },
      { message: 'figures from two scrapes' },
    );
    expect(snap.mode).toBe('distributed');
    expect(snap.actions.processes).toBe(true);
    expect(snap.systems.map((system) => system.name)).toEqual(['voting']);
    expect(snap.systems[0]?.services.map((service) => service.readiness)).toEqual([
      'ready',
      'ready',
      'ready',
    ]);
    const worker = processOf(snap, 'worker');
    expect(worker?.pid).toBeGreaterThan(0);
    expect(worker?.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(snap.queues).toEqual([
      expect.objectContaining({ stream: 'votes', group: 'workers', pending: 0, deadLetters: 0 }),
    ]);
    expect(snap.timeline.filter((event) => event.kind === 'ready')).toHaveLength(3);
  });

  it('sends the snapshot as server-sent events', async () => {
    const response = await fetch(`${stack.consoleUrl}/api/stream`);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!/event: snapshot\ndata: .*\n\n/.test(text)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    await reader.cancel();
    const data = /event: snapshot\ndata: (.*)\n/.exec(text)?.[1];
    expect((JSON.parse(data ?? '{}') as Snapshot).mode).toBe('distributed');
  });

  it('refuses an action without the token, or with a wrong one', async () => {
    for (const token of [null, 'wrong-token']) {
      const response = await post('/api/processes/worker/kill', undefined, token);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({
        error: { code: 'unauthorized' },
        refusal: { code: 'unauthorized' },
      });
    }
    expect(processOf(await snapshot(), 'worker')?.state).toBe('running');
  });

  it('kills a worker, shows it down, and restarts it', async () => {
    const before = processOf(await snapshot(), 'worker');
    expect((await post('/api/processes/worker/kill?signal=SIGKILL')).status).toBe(200);
    await waitFor(async () => processOf(await snapshot(), 'worker')?.readiness === 'down', {
      message: 'the worker down',
    });
    expect((await post('/api/processes/worker/restart')).status).toBe(200);
    const after = await waitFor(
      async () => {
        const worker = processOf(await snapshot(), 'worker');
        return worker?.readiness === 'ready' ? worker : undefined;
      },
      { timeoutMs: 20_000, message: 'the worker ready again' },
    );
    expect(after.restarts).toBe(1);
    expect(after.pid).not.toBe(before?.pid);
    const kinds = (await snapshot()).timeline.map((event) => `${event.kind} ${event.subject}`);
    expect(kinds).toEqual(
      expect.arrayContaining(['killed worker', 'down worker', 'restarted worker', 'ready worker']),
    );
  });

  it('adds a worker replica and removes it again', async () => {
    const added = await post('/api/services/worker/scale', { delta: 1 });
    expect(await added.json()).toMatchObject({ process: 'worker#2' });
    await waitFor(async () => processOf(await snapshot(), 'worker#2')?.readiness === 'ready', {
      timeoutMs: 20_000,
      message: 'worker#2 ready',
    });
    expect((await post('/api/services/worker/scale', { delta: -1 })).status).toBe(200);
    await waitFor(async () => processOf(await snapshot(), 'worker#2') === undefined, {
      message: 'worker#2 gone from the snapshot',
    });
    const refused = await post('/api/services/worker/scale', { delta: -1 });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      error: { message: /one replica left/ },
      refusal: { code: 'one-replica-left', service: 'worker' },
    });
  });

  it('names a process it does not know, and a bad body', async () => {
    const unknown = await post('/api/processes/nobody/kill');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error: { message: /no process labelled/ },
      refusal: { code: 'no-process', label: 'nobody' },
    });
    expect((await post('/api/services/worker/scale', { delta: 5 })).status).toBe(400);
  });

  it('runs a voting load and shows its verification: acknowledged against stored', async () => {
    const started = await post('/api/loads', { system: 'voting', rate: 40, durationSeconds: 3 });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: number };
    const run = await waitFor(
      async () => {
        const found = (await snapshot()).loads.find((load) => load.id === id);
        return found?.state === 'running' ? undefined : found;
      },
      { timeoutMs: 60_000, message: 'the load run to finish' },
    );
    expect(run.state).toBe('passed');
    expect(run.result?.acknowledged).toBeGreaterThan(0);
    expect(run.result?.verification).toMatchObject({ ok: true, differences: 0 });
    // Redis counts a consumer once it has been delivered something.
    expect((await snapshot()).queues[0]?.consumers).toBeGreaterThanOrEqual(1);
    const lastLoadEvent = (await snapshot()).timeline
      .filter((event) => event.kind === 'load')
      .at(-1);
    expect(lastLoadEvent?.message).toMatch(/passed: \d+ acknowledged, \d+ checked/);
  }, 90_000);

  it('shows the same figures in agora status --watch, until Ctrl-C', async () => {
    const watch = startAgora(['status', '--watch', '0.5', 'vote', 'worker', 'result'], {
      env: { ...stack.env, AGORA_CONSOLE_URL: stack.consoleUrl },
    });
    await watch.waitForOutput(/distributed, from http/, 10_000);
    await watch.waitForOutput(/^worker\s+ready\s+\d+/m, 10_000);
    await watch.waitForOutput(/^votes\s+workers\s+\d+\s+\d+\s+\d+/m, 10_000);
    watch.kill('SIGINT');
    expect(await watch.exited).toEqual({ code: 0, signal: null });
  });

  it('gives the last log lines of a process', async () => {
    const response = await fetch(`${stack.consoleUrl}/api/processes/vote/logs`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { process: string; lines: unknown };
    expect(body.process).toBe('vote');
    expect(Array.isArray(body.lines)).toBe(true);
  });
});

describe('the console on embedded agora up', () => {
  it('shows what it can and says that actions need --distributed', async () => {
    const { env, consolePort, token } = await stackEnv();
    const embedded: NodeJS.ProcessEnv = { ...env, AGORA_DATA_DIR: `/tmp/${stack.schema}-embedded` };
    delete embedded.REDIS_URL;
    delete embedded.DATABASE_URL;
    const up = startAgora(['up', 'counter'], { env: embedded });
    await up.waitForOutput(/console: http/, 30_000);
    const base = `http://127.0.0.1:${consolePort}`;
    const snap = await waitFor(
      async () => {
        const current = (await (await fetch(`${base}/api/snapshot`)).json()) as Snapshot;
        return current.processes[0]?.readiness === 'ready' ? current : undefined;
      },
      { message: 'counter ready in the embedded console' },
    );
    expect(snap.mode).toBe('embedded');
    expect(snap.actions).toMatchObject({ processes: false, reason: 'needs-distributed' });
    const refused = await fetch(`${base}/api/processes/counter/kill`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: { code: 'needs_distributed' } });
    await up.stop();
  });
});
