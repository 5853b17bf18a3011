/**
 * The counter profile in containers, and seeds 000/001's experiments: `docker rm -f` the
 * counter and then Redis, recreate each (Redis on its volume), and the count is kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ComposeProject } from '../../support/compose-project.js';
import { stopContainer } from '../../support/containers.js';
import { toolOutput } from '../../support/deploy-tools.js';
import { waitFor } from '../../support/processes.js';
import { bringUp, readOnlyRun } from './profile.js';

const project = new ComposeProject(['counter']);
let url: string;

/** One visit to the seed's page: the count it shows. */
async function visit(): Promise<number> {
  const response = await fetch(`${url}/`, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  const hits = /I have been seen (\d+) times/.exec(text)?.[1];
  if (response.status !== 200 || hits === undefined) {
    throw new Error(`counter answered ${response.status}: ${text}`);
  }
  return Number(hits);
}

/** Removes a service's container with `docker rm -f`, recreates it and waits until healthy. */
async function removeAndRecreate(service: string): Promise<void> {
  const before = await project.container(service);
  await toolOutput('docker', ['rm', '-f', before]);
  await project.compose(['up', '-d', '--no-build', '--no-deps', service]);
  expect(await project.container(service)).not.toBe(before);
  await project.waitHealthy(120_000);
  url = await project.url('counter', 5000);
}

beforeAll(async () => {
  await bringUp(project, 3);
  url = await project.url('counter', 5000);
});

afterAll(() => project.down());

describe('counter profile in containers', () => {
  it("serves the seed's page, counting every visit", async () => {
    const first = await visit();
    expect(await visit()).toBe(first + 1);
  });

  it('keeps the count when the counter container is removed with docker rm -f and recreated', async () => {
    const before = await visit();
    await removeAndRecreate('counter');
    expect(await waitFor(visit, { timeoutMs: 30_000 })).toBe(before + 1);
  });

  it('keeps the count when Redis is removed with docker rm -f and recreated on its volume', async () => {
    const before = await visit();
    await removeAndRecreate('redis');
    // The counter reconnects by itself; until then a visit fails and counts nothing.
    expect(await waitFor(visit, { timeoutMs: 60_000, intervalMs: 250 })).toBe(before + 1);
  });

  it('runs with a read-only root file system', async () => {
    expect(await readOnlyRun(project, 'counter')).toBe(0);
  });

  it('stops gracefully on docker stop (SIGTERM) within its grace period, exit code 0', async () => {
    for (const service of ['counter']) {
      expect(await stopContainer(await project.container(service), 15), service).toBe(0);
    }
  });
});
