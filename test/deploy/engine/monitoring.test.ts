/**
 * The Compose `monitoring` profile in containers, beside the counter and tasks profiles:
 * Prometheus (compose.override.yaml, monitoring/prometheus-compose.yml) finds every replica by
 * its service name on the back network and scrapes its admin port, and no other target; after a
 * few requests on the services' published ports their request counts are in Prometheus; its
 * storage on the named volume is written as `nobody`; `docker stop` ends it with exit code 0.
 * Prometheus is reached only through its port published on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ComposeProject } from '../../support/compose-project.js';
import { inspect, stopContainer } from '../../support/containers.js';
import { toolOutput } from '../../support/deploy-tools.js';
import { metricsPorts } from '../../support/metrics-ports.js';
import { waitFor } from '../../support/processes.js';
import { bringUp } from './profile.js';

interface Target {
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  labels: Record<string, string>;
  scrapeUrl: string;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** The services of the profiles brought up beside `monitoring`, and their systems. */
const scraped: Record<string, string> = { counter: 'counter', tasks: 'tasks' };
const project = new ComposeProject(['counter', 'tasks', 'monitoring']);
let prometheus: string;

/** GET on Prometheus's HTTP API through its published port; the `data` of a success. */
async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${prometheus}${path}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (response.status !== 200 || body.status !== 'success') {
    throw new Error(`Prometheus answered ${response.status} to ${path}: ${body.error ?? ''}`);
  }
  return body.data;
}

async function query(expression: string): Promise<Sample[]> {
  const data = await api<{ result: Sample[] }>(
    `/api/v1/query?query=${encodeURIComponent(expression)}`,
  );
  return data.result;
}

/** `<address on the back network>:<admin port>` of every container of the scraped services. */
async function expectedTargets(): Promise<string[]> {
  const backTier = project.network('back-tier');
  const addresses: string[] = [];
  for (const service of Object.keys(scraped)) {
    for (const id of await project.containers(service)) {
      const address = await inspect(
        id,
        `{{with index .NetworkSettings.Networks "${backTier}"}}{{.IPAddress}}{{end}}`,
      );
      addresses.push(`${address}:${metricsPorts[service] ?? 0}`);
    }
  }
  return addresses.sort();
}

/** GETs `path` on a published port `times` times; each must answer 200. */
async function requests(url: string, times: number): Promise<void> {
  for (let n = 0; n < times; n++) {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    expect(response.status, url).toBe(200);
  }
}

beforeAll(async () => {
  // redis, postgres, counter, two tasks replicas, prometheus
  await bringUp(project, 6);
  prometheus = await project.url('prometheus', 9090);
});

afterAll(async () => {
  await project.down();
  const label = `label=com.docker.compose.project=${project.name}`;
  for (const kind of ['container', 'network', 'volume']) {
    const args = kind === 'container' ? ['ps', '-a', '-q'] : [kind, 'ls', '-q'];
    expect(await toolOutput('docker', [...args, '--filter', label]), `${kind}s left`).toBe('');
  }
});

describe('monitoring profile in containers', () => {
  it('scrapes every replica of the running services on its admin port, and nothing else', async () => {
    const expected = await expectedTargets();
    // counter and two tasks replicas
    expect(expected).toHaveLength(3);
    let targets: Target[] = [];
    await waitFor(
      async () => {
        targets = (await api<{ activeTargets: Target[] }>('/api/v1/targets?state=active'))
          .activeTargets;
        const addresses = targets.map((target) => target.labels.instance ?? '').sort();
        return (
          JSON.stringify(addresses) === JSON.stringify(expected) &&
          targets.every((target) => target.health === 'up')
        );
      },
      {
        timeoutMs: 90_000,
        intervalMs: 1_000,
        message: () =>
          `every target up at ${expected.join(', ')}; Prometheus has ` +
          targets
            .map((target) => `${target.scrapeUrl} ${target.health} ${target.lastError}`)
            .join(', '),
      },
    );
    for (const target of targets) {
      const service = target.labels.service ?? '';
      expect(Object.keys(scraped)).toContain(service);
      expect(target.labels).toMatchObject({ job: scraped[service], system: scraped[service] });
      expect(target.scrapeUrl).toMatch(new RegExp(`:${metricsPorts[service] ?? 0}/metrics$`));
    }
  });

  it('has the request counts of the requests sent on the published ports', async () => {
    await requests(`${await project.url('counter', 5000)}/`, 5);
    for (const replica of [1, 2]) {
      await requests(`${await project.url('tasks', 9000, replica)}/tasks?client=monitoring`, 3);
    }
    const expression = 'http_request_duration_seconds_count{route=~"/|/tasks", status_code="200"}';
    let samples: Sample[] = [];
    await waitFor(
      async () => {
        samples = await query(expression);
        const counter = samples.filter((sample) => sample.metric.service === 'counter');
        const tasks = samples.filter((sample) => sample.metric.service === 'tasks');
        return (
          counter.some((sample) => Number(sample.value[1]) >= 5) &&
          new Set(tasks.map((sample) => sample.metric.instance)).size === 2 &&
          tasks.every((sample) => Number(sample.value[1]) >= 3)
        );
      },
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
        message: () => `the counts of the requests sent in Prometheus: ${JSON.stringify(samples)}`,
      },
    );
    // The services' own `service` label is kept (honor_labels), not renamed exported_service.
    expect(samples.some((sample) => 'exported_service' in sample.metric)).toBe(false);
    const byService = await query(`sum by (service) (${expression})`);
    expect(byService.map((sample) => sample.metric.service).sort()).toEqual(['counter', 'tasks']);
  });

  it('writes its storage on the named volume as nobody', async () => {
    const id = await project.container('prometheus');
    expect(await inspect(id, '{{.Config.User}}')).toBe('nobody');
    expect(
      await inspect(
        id,
        '{{range .Mounts}}{{if eq .Destination "/prometheus"}}{{.Type}} {{.Name}}{{end}}{{end}}',
      ),
    ).toBe(`volume ${project.name}_prometheus-data`);
    // Samples go to the write-ahead log on the volume; none has failed to.
    const own = await (await fetch(`${prometheus}/metrics`)).text();
    expect(own).toMatch(/^prometheus_tsdb_head_samples_appended_total(\{[^}]*\})? [1-9]/m);
    expect(own).toMatch(/^prometheus_tsdb_wal_writes_failed_total 0$/m);
    const wal = await toolOutput('docker', ['exec', id, 'ls', '-ln', '/prometheus/wal']);
    // `-rw-r--r-- 1 65534 65534 <size> ... 00000000`: a segment owned by nobody, not empty.
    expect(wal).toMatch(/^-\S+\s+\d+\s+65534\s+\d+\s+[1-9]\d*\s.*\d{8}$/m);
  });

  it('stops on docker stop (SIGTERM), exit code 0', async () => {
    expect(await stopContainer(await project.container('prometheus'), 15)).toBe(0);
  });
});
