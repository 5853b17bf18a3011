/**
 * deploy/compose.yaml (+ compose.override.yaml) against the tools that read it and against the
 * service registry: Debian's docker-compose accepts it with every profile, the base file keeps
 * to what a Swarm stack accepts, and every registered service runs with its port, profile,
 * health check and address. Nothing is started: there is no Docker engine on CI.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { envNameOf } from '../../src/platform/platform-settings.js';
import { services } from '../../src/services.js';
import {
  deploySecret,
  parsePort,
  parseYamlDocuments,
  type PublishedPort,
  reportUnregistered,
  tool,
  toolOutput,
} from '../support/deploy-tools.js';
import { metricsPorts } from '../support/metrics-ports.js';
import { repoRoot } from '../support/processes.js';

interface ComposeService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  ports?: (PublishedPort | string)[];
  profiles?: string[];
  networks?: Record<string, unknown> | string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string }> | string[];
  volumes?: (string | { source?: string; target?: string })[];
  deploy?: { replicas?: number; restart_policy?: unknown; update_config?: unknown };
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, unknown>;
  volumes?: Record<string, unknown>;
}

const base = ['-f', 'deploy/compose.yaml'];
const withOverride = [...base, '-f', 'deploy/compose.override.yaml'];
const registered = new Set(services.map((service) => service.name));
const systems = [...new Set(services.map((service) => service.system))];
/** Run with several replicas (issue #7): the stream consumers and the replicated servers. */
const replicated = ['worker', 'news-node', 'tasks'];
const backends = ['redis', 'postgres'];
/** The monitoring profile's services: not Agora's, so not checked as Agora containers. */
const monitoring = ['prometheus'];
const notAgora = [...backends, ...monitoring];

function readCompose(text: string): ComposeFile {
  const [document] = parseYamlDocuments(text);
  return document as ComposeFile;
}

function networkNames(service: ComposeService): string[] {
  const networks = service.networks ?? [];
  return Array.isArray(networks) ? networks : Object.keys(networks);
}

function volumeTargets(service: ComposeService): string[] {
  return (service.volumes ?? []).map((volume) =>
    // `redis-data:/data:rw` -> `redis-data:/data`: the mode is not what is checked.
    typeof volume === 'string'
      ? volume.split(':').slice(0, 2).join(':')
      : `${volume.source ?? ''}:${volume.target ?? ''}`,
  );
}

// docker stack config (Docker CLI 20.10+, not Debian's 20.10.24 build) loads a stack file with
// Swarm's own schema and needs no engine; where it is missing the static checks above remain.
const stackConfig = await tool('docker', ['stack', 'config', '--help']).catch(() => undefined);
const hasStackConfig = stackConfig?.code === 0;
if (!hasStackConfig) {
  process.stderr.write(
    'deploy test: no `docker stack config` here (needs the Docker CLI from docker.com, ' +
      'Debian ships none with it): Swarm schema check skipped, static checks ran\n',
  );
}

let merged: ComposeFile;
let raw: ComposeFile;

beforeAll(async () => {
  merged = readCompose(await toolOutput('docker-compose', [...withOverride, 'config']));
  raw = readCompose(readFileSync(join(repoRoot, 'deploy/compose.yaml'), 'utf8'));
  const agora = Object.keys(merged.services).filter((name) => !notAgora.includes(name));
  reportUnregistered('deploy/compose.yaml', agora, registered);
});

describe('deploy/compose.yaml with docker-compose', () => {
  it('docker-compose config accepts the base file alone', async () => {
    const result = await tool('docker-compose', [...base, 'config', '--quiet']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('offers a profile for every system of the registry', () => {
    const profiles = new Set(Object.values(merged.services).flatMap((s) => s.profiles ?? []));
    expect([...profiles].sort()).toEqual(expect.arrayContaining(systems));
  });

  it.each(systems)('docker-compose --profile %s config accepts the project', async (system) => {
    const result = await tool('docker-compose', [...withOverride, '--profile', system, 'config']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('deploy/compose.yaml as a Swarm stack', () => {
  it('keeps to what docker stack deploy accepts: no profiles, depends_on only as a list', () => {
    for (const [name, service] of Object.entries(raw.services)) {
      expect(service.profiles, `${name} has profiles`).toBeUndefined();
      if (service.depends_on !== undefined) {
        expect(Array.isArray(service.depends_on), `${name} depends_on`).toBe(true);
      }
    }
  });

  it('gives every service replicas, a restart policy and an update policy', () => {
    for (const [name, service] of Object.entries(raw.services)) {
      expect(service.deploy?.replicas, name).toBeGreaterThanOrEqual(1);
      expect(service.deploy?.restart_policy, name).toBeDefined();
      expect(service.deploy?.update_config, name).toBeDefined();
    }
  });

  it.skipIf(!hasStackConfig)(
    'docker stack config accepts the base file (Swarm schema, when the Docker CLI has it)',
    async () => {
      const result = await tool('docker', ['stack', 'config', '-c', 'deploy/compose.yaml']);
      // Swarm publishes on every interface whatever the address (deploy/README.md, "Swarm"):
      // it says so once per 127.0.0.1 port, and nothing else.
      const lines = result.stderr.split('\n').filter(Boolean);
      for (const line of lines) expect(line).toMatch(/ignoring IP-address \(127\.0\.0\.1:/);
      expect(result.code).toBe(0);
    },
  );
});

describe('deploy/compose.yaml against the registry', () => {
  it.each(services.map((service) => [service.name, service] as const))(
    'runs %s with its command, port, profile and health check',
    (name, definition) => {
      const service = merged.services[name];
      expect(service, `${name} is missing from deploy/compose.yaml`).toBeDefined();
      if (service === undefined) return;
      expect(service.command).toEqual(['run', name]);
      expect(service.image).toMatch(/agora/);
      expect(service.profiles).toEqual([definition.system]);
      expect(service.healthcheck?.test).toEqual(['CMD', 'node', 'dist/cli/main.js', 'health']);
      expect(networkNames(service)).toContain('back-tier');
      // A published port is the service's own, on the same host port (a range for replicas),
      // bound to loopback.
      for (const port of (service.ports ?? []).map(parsePort)) {
        expect(port.target).toBe(definition.defaultPort);
        expect(port.host_ip, `${name} publishes beyond 127.0.0.1`).toBe('127.0.0.1');
        expect(String(port.published)).toMatch(new RegExp(`^${definition.defaultPort}(-\\d+)?$`));
        expect(networkNames(service)).toContain('front-tier');
      }
      for (const backend of backends) {
        expect(service.depends_on).toMatchObject({ [backend]: { condition: 'service_healthy' } });
      }
    },
  );

  it.each(services.map((service) => [service.name, service.defaultPort] as const))(
    'tells every container where %s is (port %i)',
    (name, port) => {
      for (const [other, service] of Object.entries(merged.services)) {
        if (notAgora.includes(other)) continue;
        expect(service.environment?.[`AGORA_${envNameOf(name)}_URL`], other).toMatch(
          new RegExp(`^(http://)?${name}:${port}$`),
        );
      }
    },
  );

  it('publishes no internal port: news TCP, admin ports, Redis and Postgres', () => {
    for (const name of ['news-agent', 'news-node', 'worker', 'election-subscriber', ...backends]) {
      expect(merged.services[name]?.ports, name).toBeUndefined();
    }
    for (const [name, service] of Object.entries(merged.services)) {
      if (monitoring.includes(name)) continue;
      const definition = services.find((candidate) => candidate.name === name);
      for (const port of (service.ports ?? []).map(parsePort)) {
        expect(port.target, name).toBe(definition?.defaultPort);
      }
    }
  });

  it('has each news-node replica announce its own address, not the loopback default', () => {
    const entrypoint = merged.services['news-node']?.entrypoint?.join(' ') ?? '';
    expect(entrypoint).toMatch(/NEWS_NODE_ADVERTISE=.*hostname -I.*:8005/);
    expect(entrypoint).toMatch(/exec node dist\/cli\/main\.js/);
  });

  it('runs several replicas of worker, news-node and tasks', () => {
    for (const name of replicated) {
      expect(merged.services[name]?.deploy?.replicas, name).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('deploy/compose.yaml secrets', () => {
  it.each(['AGORA_VOTE_SECRET', 'AGORA_NEWS_SECRET', 'POSTGRES_PASSWORD'])(
    'refuses to resolve without %s: no secret has a default',
    async (name) => {
      const text = readFileSync(join(repoRoot, 'deploy/compose.yaml'), 'utf8');
      expect(text).toContain(`\${${name}:?`);
      expect(text).not.toMatch(new RegExp(`\\$\\{${name}:-`));
      const result = await tool('docker-compose', [...withOverride, 'config', '--quiet'], {
        unset: [name],
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(name);
    },
  );

  it('gives every Agora container the secrets the file was given', () => {
    for (const [name, service] of Object.entries(merged.services)) {
      if (notAgora.includes(name)) continue;
      expect(service.environment?.AGORA_VOTE_SECRET, name).toBe(deploySecret('AGORA_VOTE_SECRET'));
      expect(service.environment?.AGORA_NEWS_SECRET, name).toBe(deploySecret('AGORA_NEWS_SECRET'));
      expect(service.environment?.DATABASE_URL, name).toContain(deploySecret('POSTGRES_PASSWORD'));
    }
  });
});

describe('deploy/compose.yaml backends', () => {
  it('keeps Redis append-only on a volume and Postgres on a volume, both health-checked', () => {
    const { redis, postgres } = merged.services;
    expect(redis?.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(volumeTargets(redis ?? {})).toContain('redis-data:/data');
    expect(volumeTargets(postgres ?? {})).toContain('pg-data:/var/lib/postgresql/data');
    expect(Object.keys(merged.volumes ?? {}).sort()).toEqual([
      'pg-data',
      'prometheus-data',
      'redis-data',
    ]);
    for (const backend of [redis, postgres]) {
      expect(backend?.healthcheck?.test).toBeDefined();
      expect(networkNames(backend ?? {})).toEqual(['back-tier']);
    }
  });

  it("has the seed's two networks", () => {
    expect(Object.keys(merged.networks ?? {}).sort()).toEqual(['back-tier', 'front-tier']);
  });
});

interface ScrapeConfigs {
  scrape_configs: {
    job_name: string;
    honor_labels?: boolean;
    dns_sd_configs?: { names: string[]; type: string; port: number }[];
  }[];
}

describe('deploy/compose.override.yaml monitoring profile', () => {
  it('runs Prometheus in profile monitoring only, on the back network, its UI on 127.0.0.1', () => {
    const prometheus = merged.services.prometheus;
    expect(prometheus?.profiles).toEqual(['monitoring']);
    expect(networkNames(prometheus ?? {})).toEqual(['back-tier']);
    expect((prometheus?.ports ?? []).map(parsePort)).toEqual([
      expect.objectContaining({ host_ip: '127.0.0.1', target: 9090 }),
    ]);
    expect(volumeTargets(prometheus ?? {})).toContain('prometheus-data:/prometheus');
    const config = (prometheus?.volumes ?? []).find(
      (volume) => typeof volume === 'string' && volume.includes(':/etc/prometheus/prometheus.yml'),
    );
    expect(config).toMatch(
      /\/deploy\/monitoring\/prometheus-compose\.yml:\/etc\/prometheus\/prometheus\.yml:ro$/,
    );
    expect(raw.services.prometheus, 'Swarm refuses profiles: not in compose.yaml').toBeUndefined();
    // Healthy when its query API answers, with a tool both the official image and Debian's have.
    expect(prometheus?.healthcheck?.test?.slice(0, 4)).toEqual([
      'CMD',
      'promtool',
      'query',
      'instant',
    ]);
  });

  it("promtool (Debian's prometheus) accepts its scrape configuration", async () => {
    const result = await tool('promtool', [
      'check',
      'config',
      'deploy/monitoring/prometheus-compose.yml',
    ]);
    expect(result.stdout).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('docker-compose --profile monitoring config accepts the project', async () => {
    const result = await tool('docker-compose', [
      ...withOverride,
      '--profile',
      'monitoring',
      'config',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('scrapes every registered service by name on its admin port, one job per system', () => {
    const [document] = parseYamlDocuments(
      readFileSync(join(repoRoot, 'deploy/monitoring/prometheus-compose.yml'), 'utf8'),
    );
    const jobs = (document as ScrapeConfigs).scrape_configs;
    expect(jobs.map((job) => job.job_name).sort()).toEqual([...systems].sort());
    const scraped = new Map<string, { port: number; job: string }>();
    for (const job of jobs) {
      expect(job.honor_labels, job.job_name).toBe(true);
      for (const sd of job.dns_sd_configs ?? []) {
        expect(sd.type).toBe('A');
        for (const name of sd.names) scraped.set(name, { port: sd.port, job: job.job_name });
      }
    }
    for (const definition of services) {
      expect(scraped.get(definition.name), definition.name).toEqual({
        port: metricsPorts[definition.name],
        job: definition.system,
      });
    }
    expect(scraped.size).toBe(services.length);
  });
});
