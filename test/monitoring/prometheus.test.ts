/**
 * Debian's `prometheus` with deploy/monitoring/prometheus-local.yml against a whole
 * `agora up --distributed`: the console's service discovery gives every process as a target,
 * each is up, and every query of the Grafana dashboard (deploy/monitoring/agora-dashboard.json)
 * returns data once a little traffic has gone through each system.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { prometheusSdPath, type TargetGroup } from '../../src/console/prometheus-sd.js';
import type { Snapshot } from '../../src/console/snapshot.js';
import { services } from '../../src/services.js';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.js';
import {
  freePort,
  killAll,
  type ManagedProcess,
  repoRoot,
  startProcess,
  waitFor,
} from '../support/processes.js';

const localConfig = join(repoRoot, 'deploy/monitoring/prometheus-local.yml');
const dashboardFile = join(repoRoot, 'deploy/monitoring/agora-dashboard.json');
/** The console's address in the local configuration, as `agora up` serves it by default. */
const defaultSdUrl = `http://127.0.0.1:7070${prometheusSdPath}`;

interface Dashboard {
  panels: { title: string; targets?: { expr: string }[] }[];
}
interface ActiveTarget {
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}
interface VectorResult {
  metric: Record<string, string>;
  value: [number, string];
}

let stack: ConsoleStack;
let prometheus: ManagedProcess;
let prometheusUrl: string;
let workDir: string | undefined;

async function prometheusApi<T>(path: string): Promise<T> {
  const response = await fetch(`${prometheusUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? body.status}`);
  return body.data;
}

async function instantQuery(expr: string): Promise<VectorResult[]> {
  const data = await prometheusApi<{ resultType: string; result: VectorResult[] }>(
    `/api/v1/query?query=${encodeURIComponent(expr)}`,
  );
  return data.result;
}

/**
 * A dashboard query as Grafana sends it: `$__rate_interval` is at least four scrape intervals
 * (5 s here); `$system` set to All is the variable's allValue.
 */
function asSent(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$system', '.+');
}

async function dashboardQueries(): Promise<{ panel: string; expr: string }[]> {
  const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8')) as Dashboard;
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
  );
}

/** One frame of the news protocol to the agent: `ping` needs no account. */
function pingNewsAgent(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer to ping')));
    socket.on('connect', () => socket.write('{"v":1,"id":1,"op":"ping"}\n'));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) {
        socket.end();
        resolve(text.trim());
      }
    });
    socket.on('error', reject);
  });
}

async function consoleLoad(system: string): Promise<void> {
  const started = await fetch(`${stack.consoleUrl}/api/loads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ system, rate: 20, durationSeconds: 3 }),
  });
  expect(started.status).toBe(202);
  const { id } = (await started.json()) as { id: number };
  const run = await waitFor(
    async () => {
      const snap = (await (await fetch(`${stack.consoleUrl}/api/snapshot`)).json()) as Snapshot;
      const found = snap.loads.find((load) => load.id === id);
      return found?.state === 'running' ? undefined : found;
    },
    { timeoutMs: 120_000, intervalMs: 250, message: `the ${system} load to finish` },
  );
  expect(run.state, `${system} load`).toBe('passed');
}

beforeAll(async () => {
  const version = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    throw new Error('no prometheus on PATH: apt-get install prometheus (.ci/run installs it)');
  }
  const dir = await mkdtemp(join(tmpdir(), 'agora-prometheus-'));
  workDir = dir;
  stack = await startConsoleStack([]);
  const config = await readFile(localConfig, 'utf8');
  expect(config).toContain(defaultSdUrl);
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(
    configFile,
    config.replace(defaultSdUrl, `${stack.consoleUrl}${prometheusSdPath}`),
    'utf8',
  );
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  prometheus = startProcess('prometheus', [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  await waitFor(async () => (await fetch(`${prometheusUrl}/-/ready`)).ok, {
    timeoutMs: 30_000,
    message: () => `prometheus ready; its output:\n${prometheus.output().slice(-2_000)}`,
  });
}, 90_000);

afterAll(async () => {
  await killAll();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe('Prometheus with the local configuration on agora up --distributed', () => {
  it('finds every service and the console through the console, each target up', async () => {
    const groups = (await (
      await fetch(`${stack.consoleUrl}${prometheusSdPath}`)
    ).json()) as TargetGroup[];
    expect([...new Set(groups.map((group) => group.labels.service))].sort()).toEqual(
      [...services.map((service) => service.name), 'console'].sort(),
    );

    const expected = new Set([...services.map((service) => service.name), 'console']);
    let last: ActiveTarget[] = [];
    const targets = await waitFor(
      async () => {
        const data = await prometheusApi<{ activeTargets: ActiveTarget[] }>(
          '/api/v1/targets?state=active',
        );
        last = data.activeTargets;
        const found = new Set(last.map((target) => target.labels.service));
        const allUp = last.every((target) => target.health === 'up');
        return allUp && [...expected].every((service) => found.has(service)) ? last : undefined;
      },
      {
        timeoutMs: 90_000,
        intervalMs: 500,
        message: () =>
          `every target up; now: ${last
            .map((t) => `${t.labels.process} ${t.health} ${t.lastError}`)
            .join(', ')}`,
      },
    );
    for (const target of targets) {
      expect(target.health, target.labels.process).toBe('up');
      expect(target.labels.system, target.labels.process).toBeTruthy();
    }
    const byService = new Map(targets.map((target) => [target.labels.service, target]));
    expect(byService.get('worker')?.labels).toMatchObject({ system: 'voting', process: 'worker' });
  }, 120_000);

  it('answers every query of the Grafana dashboard with data after some traffic', async () => {
    const port = (name: string) => stack.ports.get(name) ?? 0;
    expect(await pingNewsAgent(port('news-agent'))).toMatch(/"ok":true/);
    for (let visit = 0; visit < 5; visit++) {
      expect((await fetch(`http://127.0.0.1:${port('counter')}/`)).ok).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port('tasks')}/status`)).ok).toBe(true);
    }
    await consoleLoad('voting');
    await consoleLoad('election');

    const queries = await dashboardQueries();
    expect(queries.length).toBeGreaterThan(15);
    const empty = new Map(queries.map((query) => [query.expr, query.panel]));
    await waitFor(
      async () => {
        for (const expr of [...empty.keys()]) {
          const result = await instantQuery(asSent(expr));
          if (result.length > 0) empty.delete(expr);
        }
        return empty.size === 0;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
        message: () =>
          `data for every dashboard query; none yet for: ${[...empty]
            .map(([expr, panel]) => `${panel}: ${expr}`)
            .join('\n')}`,
      },
    );

    // The request rate covers each kind of request the console counts: HTTP, news frames,
    // gRPC calls, items the consumers stored. A series needs two scrapes for a rate, so wait.
    const rateQueries = queries.filter((query) => query.panel === 'Requests per second');
    expect(rateQueries).toHaveLength(2);
    const served = [
      'counter',
      'tasks',
      'vote',
      'election-gateway',
      'news-agent',
      'election-grpc',
      'worker',
      'election-subscriber',
    ];
    let measured = new Set<string>();
    await waitFor(
      async () => {
        const rates = await Promise.all(
          rateQueries.map((query) => instantQuery(asSent(query.expr))),
        );
        measured = new Set(rates.flat().map((sample) => sample.metric.service ?? ''));
        return served.every((service) => measured.has(service));
      },
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
        message: () =>
          `a request rate for ${served.join(', ')}; now for ${[...measured].join(', ')}`,
      },
    );
    const queued = await instantQuery('agora_queue_length');
    expect(queued.map((sample) => sample.metric.stream)).toEqual(expect.arrayContaining(['votes']));
  }, 300_000);
});
