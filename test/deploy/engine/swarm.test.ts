/**
 * deploy/compose.yaml as a Swarm stack on this one node: `docker swarm init`, `docker stack
 * deploy`; the declared replicas start, every vote and tasks replica answers on 127.0.0.1,
 * `docker service scale` of the worker under voting load loses nothing, and a rolling update of
 * vote (`docker service update --force`) under load fails no request. The stack, its volumes and
 * networks, the swarm and the firewall rule are removed afterwards, also on failure.
 *
 * This machine's kernel has no IPVS (no /proc/sys/net/ipv4/vs), which Swarm's routing mesh and
 * service virtual IPs are made of: with them a published port refuses connections and a service
 * name times out (dockerd logs the missing `net.ipv4.vs.*`). So the stack runs here with two
 * changes, both in the file this test writes, none in compose.yaml: every service resolves by DNS
 * round robin (`endpoint_mode: dnsrr`) and publishes in host mode on a port Docker picks per task.
 * The load runs in a container on the stack's network, reaching vote and result by name.
 * Host-mode ports bind every interface: a DOCKER-USER rule, set before the deploy and removed
 * after, drops traffic forwarded to the stack's containers from anywhere but this machine
 * (deploy/README.md, "Swarm"); a container on the default bridge stands in for another machine.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { exitCodes } from '../../../src/load/thresholds.js';
import { inspect } from '../../support/containers.js';
import { parsePort, parseYamlDocuments, tool, toolOutput } from '../../support/deploy-tools.js';
import { repoRoot, startProcess, waitFor } from '../../support/processes.js';

interface StackService {
  ports?: (string | { target: number; mode: string })[];
  healthcheck?: { test?: string[]; timeout?: string };
  deploy?: { replicas?: number; endpoint_mode?: string };
  [key: string]: unknown;
}

const stack = `agoraswarm${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'agora-stack-'));
const file = join(dir, 'stack.yaml');
/** Declared replicas per service, from compose.yaml. */
const declared = new Map<string, number>();
/** Forwarded into the stack's containers from anywhere but their own bridge: dropped. */
const dropRule = [
  'DOCKER-USER',
  '!',
  '-i',
  'docker_gwbridge',
  '-o',
  'docker_gwbridge',
  '-m',
  'conntrack',
  '--ctstate',
  'NEW',
  '-j',
  'DROP',
];
/**
 * Over IPv6 Docker publishes through its userland proxy, which the DOCKER-USER chain never
 * sees: new IPv6 connections from other machines to the ports Docker picks (the kernel's
 * ephemeral range) are dropped at INPUT.
 */
const [low = '32768', high = '60999'] = readFileSync(
  '/proc/sys/net/ipv4/ip_local_port_range',
  'utf8',
)
  .trim()
  .split(/\s+/);
const dropRule6 = [
  'INPUT',
  '!',
  '-i',
  'lo',
  '-p',
  'tcp',
  '-m',
  'conntrack',
  '--ctstate',
  'NEW',
  '-m',
  'multiport',
  '--dports',
  `${low}:${high}`,
  '-j',
  'DROP',
];
/** The stand-in for another machine: a network namespace behind a veth pair. */
const outside = {
  namespace: `${stack}-out`,
  host: `${stack.slice(-6)}h`,
  peer: `${stack.slice(-6)}p`,
};
let outsideMade = false;

async function makeOutside(): Promise<void> {
  const { namespace, host, peer } = outside;
  const inside = (args: string[]) => toolOutput('ip', ['netns', 'exec', namespace, 'ip', ...args]);
  await toolOutput('ip', ['netns', 'add', namespace]);
  outsideMade = true;
  await toolOutput('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
  await toolOutput('ip', ['link', 'set', peer, 'netns', namespace]);
  await toolOutput('ip', ['addr', 'add', '10.218.0.1/30', 'dev', host]);
  await toolOutput('ip', ['link', 'set', host, 'up']);
  await inside(['addr', 'add', '10.218.0.2/30', 'dev', peer]);
  await inside(['link', 'set', peer, 'up']);
  await inside(['route', 'add', 'default', 'via', '10.218.0.1']);
}

/** Connects from the other "machine" to this one's `port`: 'connected', 'refused' or 'timeout'. */
async function connectFromOutside(port: number): Promise<string> {
  const result = await tool('ip', [
    'netns',
    'exec',
    outside.namespace,
    process.execPath,
    '-e',
    `require('net').connect({ host: '10.218.0.1', port: ${port}, timeout: 3000 })` +
      `.on('connect', () => process.exit(10)).on('timeout', () => process.exit(11))` +
      `.on('error', () => process.exit(12))`,
  ]);
  return { 10: 'connected', 11: 'timeout', 12: 'refused' }[result.code] ?? `exit ${result.code}`;
}

let ruleSet = false;
let rule6Set = false;
let swarmMade = false;
let gwbridgeMade = false;

/**
 * Writes compose.yaml as the stack, with what this kernel needs (DNS round robin, host-mode
 * ports; see the header), the back network attachable for the load's container, and the
 * suite's 30 s health-check timeout.
 */
function writeStack(): void {
  const [raw] = parseYamlDocuments(readFileSync(join(repoRoot, 'deploy/compose.yaml'), 'utf8'));
  const stackFile = raw as {
    services: Record<string, StackService>;
    networks: Record<string, Record<string, unknown> | null>;
  };
  for (const [name, service] of Object.entries(stackFile.services)) {
    declared.set(name, service.deploy?.replicas ?? 1);
    service.deploy = { ...service.deploy, endpoint_mode: 'dnsrr' };
    if (service.healthcheck?.test?.includes('health') === true) service.healthcheck.timeout = '30s';
    if (service.ports !== undefined) {
      service.ports = service.ports.map((port) => ({
        target: parsePort(port).target,
        mode: 'host',
      }));
    }
  }
  stackFile.networks['back-tier'] = { ...stackFile.networks['back-tier'], attachable: true };
  writeFileSync(file, stringify(stackFile, { version: '1.1' }));
}

/** `Replicas` of every service of the stack, as `docker stack services` shows them. */
async function replicas(): Promise<Map<string, string>> {
  const output = await toolOutput('docker', [
    'stack',
    'services',
    stack,
    '--format',
    '{{.Name}} {{.Replicas}}',
  ]);
  const result = new Map<string, string>();
  for (const line of output.split('\n').filter(Boolean)) {
    const [name = '', count = ''] = line.split(' ');
    result.set(name.replace(`${stack}_`, ''), count);
  }
  return result;
}

async function waitReplicas(service: string, count: number): Promise<void> {
  let last = '';
  await waitFor(
    async () => {
      last = (await replicas()).get(service) ?? '';
      return last === `${count}/${count}`;
    },
    {
      timeoutMs: 240_000,
      intervalMs: 1_000,
      message: () => `${service} at ${count}/${count} (${last})`,
    },
  );
}

/** Each running task of a service: its hostname (the container id) and its host-mode port. */
async function tasksOf(service: string, target: number): Promise<Map<string, number>> {
  const ids = (
    await toolOutput('docker', [
      'ps',
      '-q',
      '--filter',
      `label=com.docker.swarm.service.name=${stack}_${service}`,
    ])
  )
    .split('\n')
    .filter(Boolean);
  const tasks = new Map<string, number>();
  for (const id of ids) {
    const port = await inspect(
      id,
      `{{with index .NetworkSettings.Ports "${target}/tcp"}}{{(index . 0).HostPort}}{{end}}`,
    );
    tasks.set(await inspect(id, '{{.Config.Hostname}}'), Number(port));
  }
  return tasks;
}

/** One GET on a new connection (the mesh balances connections, not requests). */
function getOnce(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve(body);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * `agora load voting` from a container on the stack's network, to vote and result by name, once
 * both run all their tasks (a task whose health check failed has left the DNS round robin). It
 * runs until `stopLoad`, which its duration only bounds.
 */
async function votingLoad(maxFailures: string) {
  await waitReplicas('vote', 2);
  await waitReplicas('result', 1);
  return startProcess('docker', [
    'run',
    '--rm',
    '--label',
    `com.docker.stack.namespace=${stack}`,
    '--network',
    `${stack}_back-tier`,
    'agora:latest',
    'load',
    'voting',
    '--url',
    'http://vote:8080/',
    '--result-url',
    'http://result:8081/',
    '--rate',
    '20',
    '--duration',
    '300s',
    '--max-failures',
    maxFailures,
    '--settle-timeout',
    '90s',
    '--json',
    '--no-live',
  ]);
}

/** What the tests read of `agora load --json`'s report. */
interface LoadReport {
  acknowledged: number;
  stoppedBy: string;
  total: { requests: number; failed: number; failures: Record<string, number> };
  verification?: { ok: boolean; checked: number };
}

/**
 * Stops a votingLoad as Ctrl-C would (`docker run` passes the signal on to the load): it still
 * verifies and reports, and exits 130 when nothing failed. Resolves with its exit and report.
 */
async function stopLoad(load: Awaited<ReturnType<typeof votingLoad>>) {
  load.kill('SIGTERM');
  const exit = await load.exited;
  process.stderr.write(`${load.stderr()}\n`);
  return { exit, report: JSON.parse(load.stdout()) as LoadReport };
}

async function removeEverything(): Promise<void> {
  await tool('docker', ['stack', 'rm', stack]);
  const label = `label=com.docker.stack.namespace=${stack}`;
  await waitFor(
    async () => (await toolOutput('docker', ['ps', '-aq', '--filter', label])).trim() === '',
    { timeoutMs: 120_000, intervalMs: 1_000, message: `the containers of ${stack} gone` },
  ).catch(() => undefined);
  const leftover = (await toolOutput('docker', ['ps', '-aq', '--filter', label]).catch(() => ''))
    .split('\n')
    .filter(Boolean);
  if (leftover.length > 0) await tool('docker', ['rm', '-f', '-v', ...leftover]);
  for (const kind of ['volume', 'network']) {
    const names = (
      await toolOutput('docker', [kind, 'ls', '-q', '--filter', label]).catch(() => '')
    )
      .split('\n')
      .filter(Boolean);
    if (names.length > 0) await tool('docker', [kind, 'rm', ...names]);
  }
  if (outsideMade) {
    await tool('ip', ['link', 'del', outside.host]);
    await tool('ip', ['netns', 'del', outside.namespace]);
  }
  if (ruleSet) await tool('iptables', ['-D', ...dropRule]);
  if (rule6Set) await tool('ip6tables', ['-D', ...dropRule6]);
  if (swarmMade) await tool('docker', ['swarm', 'leave', '--force']);
  if (gwbridgeMade) {
    // `docker swarm init` made it; Docker 20.10 sometimes keeps a stale ingress endpoint on it
    // after `swarm leave`, and then refuses to remove it until dockerd restarts.
    const removed = await tool('docker', ['network', 'rm', 'docker_gwbridge']);
    if (removed.code !== 0) {
      process.stderr.write(
        `deploy test: docker_gwbridge left in place: ${removed.stderr.trim()}\n`,
      );
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

beforeAll(async () => {
  const state = (await toolOutput('docker', ['info', '-f', '{{.Swarm.LocalNodeState}}'])).trim();
  if (state !== 'inactive') {
    throw new Error(
      `this engine is in a swarm already (${state}); the test makes and leaves its own`,
    );
  }
  writeStack();
  const networks = await toolOutput('docker', ['network', 'ls', '--format', '{{.Name}}']);
  gwbridgeMade = !networks.split('\n').includes('docker_gwbridge');
  try {
    await toolOutput('docker', [
      'swarm',
      'init',
      '--advertise-addr',
      '127.0.0.1',
      '--listen-addr',
      '127.0.0.1:2377',
    ]);
    swarmMade = true;
    await toolOutput('iptables', ['-I', ...dropRule]);
    ruleSet = true;
    await toolOutput('ip6tables', ['-I', ...dropRule6]);
    rule6Set = true;
    await makeOutside();
    await toolOutput('docker', ['stack', 'deploy', '-c', file, stack]);
    const started = Date.now();
    for (const [service, count] of declared) await waitReplicas(service, count);
    process.stderr.write(
      `deploy figures: swarm stack: ${[...declared.values()].reduce((a, b) => a + b, 0)} tasks ` +
        `running ${((Date.now() - started) / 1000).toFixed(1)} s after docker stack deploy\n`,
    );
  } catch (error) {
    await removeEverything();
    throw error;
  }
}, 600_000);

afterAll(removeEverything, 300_000);

describe('deploy/compose.yaml as a Swarm stack', () => {
  it('runs the replicas the file declares', async () => {
    const running = await replicas();
    for (const [service, count] of declared)
      expect(running.get(service), service).toBe(`${count}/${count}`);
    expect(declared.get('worker')).toBe(2);
    expect(declared.get('tasks')).toBe(2);
  });

  it('answers on 127.0.0.1 from every vote and tasks replica, and not from another machine', async () => {
    await toolOutput('docker', ['service', 'scale', '--detach', `${stack}_vote=2`]);
    await waitReplicas('vote', 2);
    for (const [service, target, path, pattern] of [
      ['vote', 8080, '/', /([0-9a-f]{12}):\d+/],
      ['tasks', 9000, '/status', /"instance":"([0-9a-f]{12}):\d+"/],
    ] as const) {
      const tasks = await tasksOf(service, target);
      expect(tasks.size, service).toBe(2);
      for (const [hostname, port] of tasks) {
        const body = await waitFor(() => getOnce(port, path), { timeoutMs: 30_000 });
        expect(pattern.exec(body)?.[1], `${service} on ${port}`).toBe(hostname);
      }
    }
    // Another machine: a network namespace wired to this one by a veth pair, so its packets
    // arrive as from a network card. The connection to a task's port is dropped (times out).
    const [port] = [...(await tasksOf('vote', 8080)).values()];
    expect(await connectFromOutside(port ?? 0)).toBe('timeout');
    expect(await getOnce(port ?? 0, '/healthz')).toContain('"status":"alive"');
  });

  it(
    'loses no vote while the worker is scaled up and down under load',
    { timeout: 600_000 },
    async () => {
      const load = await votingLoad('0');
      try {
        await toolOutput('docker', ['service', 'scale', '--detach', `${stack}_worker=4`]);
        await waitReplicas('worker', 4);
        await toolOutput('docker', ['service', 'scale', '--detach', `${stack}_worker=1`]);
        await waitReplicas('worker', 1);
        const { exit, report } = await stopLoad(load);
        expect(report.verification?.ok).toBe(true);
        expect(report.acknowledged).toBeGreaterThan(0);
        expect(report.stoppedBy).toBe('interrupted');
        expect(exit.code).toBe(exitCodes.interrupted);
      } finally {
        await load.stop(5_000);
      }
    },
  );

  it(
    'fails no request during a rolling update of vote (docker service update --force)',
    { timeout: 600_000 },
    async () => {
      const load = await votingLoad('0');
      try {
        await toolOutput('docker', [
          'service',
          'update',
          '--force',
          '--detach=false',
          `${stack}_vote`,
        ]);
        const { exit, report } = await stopLoad(load);
        expect(report.total.failures).toEqual({});
        expect(report.total.failed).toBe(0);
        expect(report.total.requests).toBeGreaterThan(0);
        expect(report.verification?.ok).toBe(true);
        expect(report.stoppedBy).toBe('interrupted');
        expect(exit.code).toBe(exitCodes.interrupted);
      } finally {
        await load.stop(5_000);
      }
    },
  );
});
