/**
 * The voting profile in containers: the original app's seed-data posts (ApacheBench-shaped,
 * cookie-less form posts) all reach the result page; then `agora load voting` runs while a
 * worker, Redis and Postgres each crash (SIGKILL) and come back by their restart policy, and
 * the load's verification (every voter's last acknowledged vote, tally exact) passes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exitCodes } from '../../../src/load/thresholds.js';
import { ComposeProject } from '../../support/compose-project.js';
import { inspect, stopContainer, waitContainerHealthy } from '../../support/containers.js';
import { agoraCli, startProcess, waitFor } from '../../support/processes.js';
import { bringUp, readOnlyRun } from './profile.js';

interface Results {
  options: { option: string; votes: number }[];
  total: number;
}

const project = new ComposeProject(['voting']);
let voteUrl: string;
let resultUrl: string;

async function results(): Promise<Results> {
  const response = await fetch(`${resultUrl}/api/results`, { signal: AbortSignal.timeout(5_000) });
  if (response.status !== 200) throw new Error(`/api/results answered ${response.status}`);
  return (await response.json()) as Results;
}

function votesFor(current: Results, option: string): number {
  return current.options.find((entry) => entry.option === option)?.votes ?? 0;
}

/** `ab -n <count> -c <concurrency> -p post<option> -T application/x-www-form-urlencoded`. */
async function abPosts(option: string, count: number, concurrency: number): Promise<number> {
  let next = 0;
  let acknowledged = 0;
  const client = async () => {
    while (next < count) {
      next += 1;
      const response = await fetch(`${voteUrl}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `vote=${option}`,
        signal: AbortSignal.timeout(10_000),
      });
      await response.text();
      if (response.status === 200) acknowledged += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return acknowledged;
}

/**
 * Crashes one container of the service, then waits until its restart is healthy. The crash is
 * SIGKILL to the container's main process, as the kernel's OOM killer would send: Docker 20.10
 * counts `docker kill` as a manual stop, and a restart policy never restarts a container
 * stopped by hand.
 */
async function killAndAwaitRestart(service: string): Promise<void> {
  const id = await project.container(service);
  const restarts = Number(await inspect(id, '{{.RestartCount}}'));
  process.kill(Number(await inspect(id, '{{.State.Pid}}')), 'SIGKILL');
  await waitFor(async () => Number(await inspect(id, '{{.RestartCount}}')) > restarts, {
    timeoutMs: 60_000,
    intervalMs: 250,
    message: `${service} to be restarted by its restart policy`,
  });
  await waitContainerHealthy(id, 120_000);
}

beforeAll(async () => {
  // redis, postgres, vote, result and the worker's replicas
  await bringUp(project, 5);
  voteUrl = await project.url('vote', 8080);
  resultUrl = await project.url('result', 8081);
});

afterAll(() => project.down());

describe('voting profile in containers', () => {
  it("shows every one of the seed-data script's posts on the result page", async () => {
    const before = await results();
    const a = await abPosts('a', 1000, 50);
    const b = await abPosts('b', 2000, 50);
    expect([a, b]).toEqual([1000, 2000]);
    const after = await waitFor(
      async () => {
        const current = await results();
        return current.total === before.total + 3000 ? current : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, message: 'the 3000 votes on /api/results' },
    );
    expect(votesFor(after, 'a')).toBe(votesFor(before, 'a') + 1000);
    expect(votesFor(after, 'b')).toBe(votesFor(before, 'b') + 2000);
    const page = await (await fetch(`${resultUrl}/`)).text();
    expect(page).toContain(`${after.total.toLocaleString('en')} votes`);
  });

  it('loses no acknowledged vote while a worker, Redis and Postgres each crash and restart', async () => {
    const load = startProcess(process.execPath, [
      agoraCli,
      'load',
      'voting',
      '--url',
      `${voteUrl}/`,
      '--result-url',
      `${resultUrl}/`,
      '--rate',
      '40',
      // A bound only: the test stops the load once the last crash is over.
      '--duration',
      '300s',
      // Refused votes (503 while Redis is down) are failures the run expects; lost ones are not.
      '--max-failures',
      '100%',
      '--settle-timeout',
      '90s',
      '--json',
      '--no-live',
    ]);
    try {
      await killAndAwaitRestart('worker');
      await killAndAwaitRestart('redis');
      await killAndAwaitRestart('postgres');
      // Stopped as Ctrl-C stops it: it still verifies, and exits 130 when nothing failed.
      load.kill('SIGTERM');
      const exit = await load.exited;
      const report = JSON.parse(load.stdout()) as {
        acknowledged: number;
        stoppedBy: string;
        verification?: { ok: boolean; checked: number };
      };
      process.stderr.write(`${load.stderr()}\n`);
      expect(report.verification?.ok).toBe(true);
      expect(report.verification?.checked).toBeGreaterThan(0);
      expect(report.acknowledged).toBeGreaterThan(0);
      expect(report.stoppedBy).toBe('interrupted');
      expect(exit.code).toBe(exitCodes.interrupted);
    } finally {
      await load.stop(5_000);
    }
  });

  it.each(['vote', 'worker', 'result'])(
    'runs %s with a read-only root file system',
    async (service) => {
      expect(await readOnlyRun(project, service)).toBe(0);
    },
  );

  it('stops every service gracefully on docker stop (SIGTERM), exit code 0', async () => {
    for (const service of ['vote', 'worker', 'result']) {
      for (const id of await project.containers(service)) {
        expect(await stopContainer(id, 15), service).toBe(0);
      }
    }
  });
});
