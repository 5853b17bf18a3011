/**
 * One Compose project of deploy/compose.yaml + compose.override.yaml on the Docker engine, for
 * the deploy suite: brought up under a name unique to the run with every published port moved
 * to a random port on 127.0.0.1, driven through those ports, and removed with its containers,
 * networks and volumes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stringify } from 'yaml';

import {
  parsePort,
  parseYamlDocuments,
  type PublishedPort,
  tool,
  toolOutput,
} from './deploy-tools.js';
import { waitFor } from './processes.js';

/** What a test changes in the project it runs, beyond the loopback ports every test gets. */
export interface ProjectOptions {
  /** Container ports to publish on 127.0.0.1 that compose.yaml keeps internal. */
  publish?: Record<string, number[]>;
  /** Replicas per service, instead of the file's. */
  scale?: Record<string, number>;
  /** Environment added to a service's. */
  environment?: Record<string, Record<string, string>>;
}

interface RunService {
  image?: string;
  environment?: Record<string, string>;
  deploy?: Record<string, unknown>;
  healthcheck?: { test?: string[]; timeout?: string };
  build?: unknown;
  ports?: (PublishedPort | string)[];
  [key: string]: unknown;
}

interface RunFile {
  services: Record<string, RunService>;
  [key: string]: unknown;
}

const agoraHealthTimeout = '30s';
const sources = ['-f', 'deploy/compose.yaml', '-f', 'deploy/compose.override.yaml'];

export class ComposeProject {
  readonly name = `agoratest${randomBytes(4).toString('hex')}`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'agora-compose-'));
  private readonly file = join(this.dir, 'compose.yaml');
  private readonly profileArgs: string[];

  constructor(
    readonly profiles: readonly string[],
    private readonly options: ProjectOptions = {},
  ) {
    this.profileArgs = profiles.flatMap((profile) => ['--profile', profile]);
  }

  /**
   * Writes the project as `docker-compose config` resolves it, with what the test's options
   * ask (ports to publish, replicas, environment) and two changes only: each
   * published port becomes `127.0.0.1::<port>` (a random free host port on loopback, so that
   * nothing else on this machine is reached and nothing is exposed), and `build:` goes (the
   * image is built once by deploy/build-images.sh). And one allowance for this machine: the
   * Agora HEALTHCHECK's timeout goes from 5 s to 30 s. `agora health` loads the whole service
   * registry (about 1 s of CPU, 3 to 5 s of wall time on two shared cores under load), so with
   * several containers checking every 10 s the 5 s timeout fails healthy services.
   */
  async up(): Promise<void> {
    const [resolved] = parseYamlDocuments(
      await toolOutput('docker-compose', [...sources, ...this.profileArgs, 'config']),
    );
    const project = resolved as RunFile;
    for (const [name, service] of Object.entries(project.services)) {
      const extra = this.options.publish?.[name] ?? [];
      if (extra.length > 0) service.ports = [...(service.ports ?? []), ...extra.map(String)];
      const environment = this.options.environment?.[name];
      if (environment !== undefined)
        service.environment = { ...service.environment, ...environment };
      const replicas = this.options.scale?.[name];
      if (replicas !== undefined) service.deploy = { ...service.deploy, replicas };
      delete service.build;
      if (service.healthcheck?.test?.includes('health') === true) {
        service.healthcheck.timeout = agoraHealthTimeout;
      }
      if (service.ports !== undefined) {
        service.ports = service.ports.map((port) => `127.0.0.1::${parsePort(port).target}`);
      }
    }
    // YAML 1.1 quoting: docker-compose (PyYAML) reads a bare `yes` as true.
    writeFileSync(this.file, stringify(project, { version: '1.1' }));
    await this.compose(['up', '-d', '--no-build']);
  }

  /** Runs docker-compose on this project; a non-zero exit throws with its stderr. */
  compose(args: readonly string[]): Promise<string> {
    return toolOutput('docker-compose', [
      '-p',
      this.name,
      '-f',
      this.file,
      ...this.profileArgs,
      ...args,
    ]);
  }

  /** The ids of the containers running (or stopped) for `service`, or for every service. */
  async containers(service?: string, options: { all?: boolean } = {}): Promise<string[]> {
    const filters = [`label=com.docker.compose.project=${this.name}`];
    if (service !== undefined) filters.push(`label=com.docker.compose.service=${service}`);
    const output = await toolOutput('docker', [
      'ps',
      '-q',
      ...(options.all === true ? ['-a'] : []),
      ...filters.flatMap((filter) => ['--filter', filter]),
    ]);
    return output.split('\n').filter((id) => id !== '');
  }

  /** The container of replica `index` (1-based) of `service`. */
  async container(service: string, index = 1): Promise<string> {
    const output = await toolOutput('docker', [
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${this.name}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
      '--filter',
      `label=com.docker.compose.container-number=${index}`,
    ]);
    const id = output.trim();
    if (id === '') throw new Error(`no container for ${service} #${index} in ${this.name}`);
    return id;
  }

  /** `host:port` on 127.0.0.1 where replica `index` of `service` publishes `target`. */
  async address(service: string, target: number, index = 1): Promise<string> {
    const output = await this.compose(['port', '--index', String(index), service, String(target)]);
    const address = output.trim();
    if (!address.startsWith('127.0.0.1:')) {
      throw new Error(`${service}:${target} is published at "${address}", not on 127.0.0.1`);
    }
    return address;
  }

  /** `http://127.0.0.1:<port>` for an HTTP service's published port. */
  async url(service: string, target: number, index = 1): Promise<string> {
    return `http://${await this.address(service, target, index)}`;
  }

  /** The name of a project network, as containers started beside the project join it. */
  network(name: string): string {
    return `${this.name}_${name}`;
  }

  /** Health of every container of the project, `<container name>: <status>`. */
  async health(): Promise<Map<string, string>> {
    const ids = await this.containers(undefined, { all: true });
    const health = new Map<string, string>();
    if (ids.length === 0) return health;
    const output = await toolOutput('docker', [
      'inspect',
      '-f',
      '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}',
      ...ids,
    ]);
    for (const line of output.split('\n').filter(Boolean)) {
      const [name = '', status = ''] = line.split(' ');
      health.set(name.replace(/^\//, ''), status);
    }
    return health;
  }

  /** Waits until every container of the project (at least `count`) reports healthy. */
  async waitHealthy(timeoutMs: number, count = 1): Promise<Map<string, string>> {
    let last = new Map<string, string>();
    return waitFor(
      async () => {
        last = await this.health();
        const statuses = [...last.values()];
        return statuses.length >= count && statuses.every((status) => status === 'healthy')
          ? last
          : undefined;
      },
      {
        timeoutMs,
        intervalMs: 500,
        message: () =>
          `every container of ${this.name} to be healthy: ` +
          [...last].map(([name, status]) => `${name} ${status}`).join(', '),
      },
    );
  }

  /** The logs of every container, for a failing test's message. */
  async logs(): Promise<string> {
    const result = await tool('docker-compose', [
      '-p',
      this.name,
      '-f',
      this.file,
      ...this.profileArgs,
      'logs',
      '--no-color',
      '--tail',
      '40',
    ]);
    return result.stdout + result.stderr;
  }

  /**
   * Removes everything the project made: containers (also those a test started beside it with
   * the project's label), networks and volumes. Never throws, so it can run after a failure.
   */
  async down(): Promise<void> {
    await tool('docker-compose', [
      '-p',
      this.name,
      '-f',
      this.file,
      ...this.profileArgs,
      'down',
      '-v',
      '--remove-orphans',
      '-t',
      '5',
    ]).catch(() => undefined);
    const leftover = await this.containers(undefined, { all: true }).catch(() => []);
    if (leftover.length > 0) await tool('docker', ['rm', '-f', '-v', ...leftover]);
    const label = `label=com.docker.compose.project=${this.name}`;
    for (const kind of ['network', 'volume']) {
      const ids = await toolOutput('docker', [kind, 'ls', '-q', '--filter', label]).catch(() => '');
      const names = ids.split('\n').filter(Boolean);
      if (names.length > 0) await tool('docker', [kind, 'rm', ...names]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
