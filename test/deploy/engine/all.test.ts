/**
 * Every profile at once, as `--profile counter --profile voting ... up` runs them on one Redis
 * and one Postgres: every container healthy, and one smoke check through each system's
 * 127.0.0.1 port (the news agent's ports published for the test, as in news.test.ts).
 */
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NewsClient } from '../../../src/news/client/client.js';
import { ComposeProject } from '../../support/compose-project.js';
import { inspect } from '../../support/containers.js';
import { waitFor } from '../../support/processes.js';
import { bringUp } from './profile.js';

const adminPassword = randomBytes(16).toString('hex');
const project = new ComposeProject(['counter', 'voting', 'election', 'news', 'tasks'], {
  publish: { 'news-agent': [8000], 'news-node': [8005] },
  environment: { 'news-agent': { NEWS_ADMIN_NAME: 'root', NEWS_ADMIN_PASSWORD: adminPassword } },
});

/** Every container the profiles run: backends, counter, voting (2 workers), election, news, tasks. */
const containers = 2 + 1 + 4 + 4 + 4 + 2;

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  await bringUp(project, containers);
});

afterAll(() => project.down());

describe('every profile together in containers', () => {
  it('runs every container healthy', async () => {
    const health = await project.health();
    expect(health.size).toBe(containers);
    expect([...health].filter(([, status]) => status !== 'healthy')).toEqual([]);
  });

  it('counts a visit on the counter', async () => {
    const page = await (await fetch(`${await project.url('counter', 5000)}/`)).text();
    expect(page).toMatch(/I have been seen \d+ times/);
  });

  it('shows a vote on the result page', async () => {
    const vote = await fetch(`${await project.url('vote', 8080)}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'vote=a',
    });
    expect(vote.status).toBe(200);
    const results = `${await project.url('result', 8081)}/api/results`;
    await waitFor(async () => ((await json(results)).body as { total: number }).total === 1, {
      timeoutMs: 30_000,
      intervalMs: 250,
      message: 'the vote on /api/results',
    });
  });

  it('stores a ballot sent to the gateway and counts it on the dashboard API', async () => {
    const ballot = {
      id: `smoke-${randomBytes(4).toString('hex')}`,
      sede: 'Escuela 1',
      municipio: 'Mixco',
      departamento: 'Guatemala',
      papeleta: 'presidente',
      partido: 'Verde',
    };
    const ingest = await json(`${await project.url('election-gateway', 3001)}/ingest/grpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ballot),
    });
    expect(ingest.status).toBe(201);
    const summary = `${await project.url('election-api', 3000)}/api/summary`;
    await waitFor(async () => ((await json(summary)).body as { total: number }).total === 1, {
      timeoutMs: 30_000,
      intervalMs: 250,
      message: 'the ballot in /api/summary',
    });
  });

  it('posts and reads a news item through the agent', async () => {
    const published = new Map<string, string>();
    for (const id of await project.containers('news-node')) {
      const number = Number(
        await inspect(id, '{{index .Config.Labels "com.docker.compose.container-number"}}'),
      );
      const address = await inspect(
        id,
        `{{with index .NetworkSettings.Networks "${project.network('back-tier')}"}}{{.IPAddress}}{{end}}`,
      );
      published.set(`${address}:8005`, await project.address('news-node', 8005, number));
    }
    const agent = await project.address('news-agent', 8000);
    const reach = (node: string) => published.get(node) ?? node;
    const admin = new NewsClient({ agent, reach });
    await waitFor(() => admin.login('root', adminPassword), {
      timeoutMs: 30_000,
      intervalMs: 250,
      message: 'the admin to log in',
    });
    await admin.addArea('smoke');
    const user = new NewsClient({ agent, reach });
    await user.register(`smoke-${randomBytes(3).toString('hex')}`, randomBytes(12).toString('hex'));
    await user.subscribe('smoke');
    await admin.subscribe('smoke');
    const item = await user.post('smoke', 'all profiles up');
    expect((await admin.read('smoke', true)).map((news) => news.id)).toEqual([item.id]);
    // Your own news is not new to you.
    expect(await user.read('smoke', true)).toEqual([]);
  });

  it('stores a task and lists it', async () => {
    const tasks = await project.url('tasks', 9000);
    const created = await json(`${tasks}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'all profiles up' }),
    });
    expect(created.status).toBe(201);
    const { id } = created.body as { id: number };
    const read = await json(`${tasks}/tasks/${id}`);
    expect(read.body).toMatchObject({ id, title: 'all profiles up' });
  });
});
