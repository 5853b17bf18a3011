/**
 * The supervisor of `agora up --distributed`: one OS process per service replica, each
 * `agora run <service>` on its own port (replicas of a `shared-port` service are one
 * `agora run --cluster N`). It keeps each process's last log lines, reports deaths (restarting
 * on its own is the platform's job: Compose, Kubernetes), and gives the console what it may do:
 * kill, stop, restart, add and remove replicas.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import type {
  FaultRequest,
  KillSignal,
  ProcessActions,
  ProcessInfo,
  ProcessSource,
} from '../console/processes.js';
import { ActionRefused } from '../console/refusals.js';
import type { TimelineEntry } from '../console/timeline.js';
import type { Env } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { adminPortOf, portForUp, replicaAdminEnv } from '../platform/ports.js';
import type { ServiceDefinition } from '../platform/service.js';
import { mallocSettings } from './malloc.js';

const cliPath = fileURLToPath(new URL('./main.js', import.meta.url));
const logLinesKept = 200;

export interface SupervisorOptions {
  definitions: readonly ServiceDefinition[];
  /** Settings every child gets (backends, log format). */
  env: Env;
  /** A service's own environment on top, e.g. backend URLs through the fault proxy. */
  envOf?(definition: ServiceDefinition): Env;
  logger: Logger;
  shutdownTimeoutMs: number;
  /** Whatever happens to a process, for the console's timeline. */
  note?(entry: TimelineEntry): void;
  /** With `--faults`: the proxies between services and backends. */
  faults?: { apply(request: FaultRequest, onEnd: () => void): void };
  /** A process died on its own and none is left running. */
  onEveryProcessDead?(): void;
  /** Each child's output lines, already labelled; default: this process's stdout/stderr. */
  echo?: (line: string, stream: 'stdout' | 'stderr') => void;
}

interface Replica {
  definition: ServiceDefinition;
  /** 1-based, the replica's AGORA_REPLICA and its port's offset + 1. */
  index: number;
  label: string;
  port: number;
  workers: number;
  child: ChildProcess;
  startedAtMs: number;
  restarts: number;
  /** Why it will exit, when the supervisor (or the console) is the cause. */
  ending: 'killed' | 'stopped' | 'restarting' | 'removed' | undefined;
  logs: string[];
}

export class Supervisor implements ProcessSource {
  readonly mode = 'distributed' as const;
  readonly definitions: readonly ServiceDefinition[];
  readonly #options: SupervisorOptions;
  readonly #replicas: Replica[] = [];
  #stopping = false;
  actions: ProcessActions;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.definitions = options.definitions;
    this.actions = {
      kill: (label, signal) => this.kill(label, signal),
      restart: (label) => this.restart(label),
      scale: (service, delta) => this.scale(service, delta),
    };
    const { faults } = options;
    if (faults !== undefined) {
      this.actions.fault = (request) => {
        const detail = {
          backend: request.backend,
          fault: request.kind,
          latencyMs: request.kind === 'latency' ? (request.latencyMs ?? 200) : undefined,
          seconds: request.seconds,
        };
        faults.apply(request, () => {
          this.#note({
            kind: 'fault',
            subject: request.service,
            detail: { ...detail, lifted: true },
          });
        });
        this.#note({
          kind: 'fault',
          subject: request.service,
          detail: { ...detail, lifted: false },
        });
        return Promise.resolve();
      };
    }
  }

  /** Starts `count` replicas of a service (one cluster process for shared-port services). */
  start(definition: ServiceDefinition, count: number): void {
    if (count > 1 && definition.scaling === 'shared-port') {
      this.#spawn(definition, 1, count, `${definition.name}x${count}`);
      return;
    }
    for (let index = 1; index <= count; index++) {
      this.#spawn(
        definition,
        index,
        1,
        count > 1 ? `${definition.name}#${index}` : definition.name,
      );
    }
  }

  list(): readonly ProcessInfo[] {
    return this.#replicas.map((replica) => ({
      label: replica.label,
      service: replica.definition.name,
      system: replica.definition.system,
      url: `http://127.0.0.1:${replica.port}`,
      healthUrl: healthUrlOf(replica.definition, replica.port, this.#envOf(replica)),
      pid: replica.child.pid,
      state: isRunning(replica.child)
        ? 'running'
        : replica.ending === 'stopped'
          ? 'stopped'
          : 'exited',
      startedAtMs: replica.startedAtMs,
      restarts: replica.restarts,
      workers: replica.workers,
    }));
  }

  logs(label: string): readonly string[] | undefined {
    return this.#replicas.find((replica) => replica.label === label)?.logs;
  }

  /** Every process still running; exits of the others were reported. */
  get alive(): number {
    return this.#replicas.filter((replica) => isRunning(replica.child)).length;
  }

  async kill(label: string, signal: KillSignal): Promise<void> {
    const replica = this.#find(label);
    if (!isRunning(replica.child)) {
      throw new ActionRefused({ code: 'not-running', label }, `${label} is not running`);
    }
    replica.ending = signal === 'SIGKILL' ? 'killed' : 'stopped';
    this.#note({
      kind: signal === 'SIGKILL' ? 'killed' : 'stopped',
      subject: label,
      detail: { signal, pid: replica.child.pid },
    });
    if (signal === 'SIGKILL') {
      replica.child.kill('SIGKILL');
      await exitOf(replica.child);
    } else {
      await this.#stopChild(replica.child);
    }
  }

  /** Stops it if running (SIGTERM, then SIGKILL past the deadline) and starts it again. */
  async restart(label: string): Promise<void> {
    const replica = this.#find(label);
    if (isRunning(replica.child)) {
      replica.ending = 'restarting';
      await this.#stopChild(replica.child);
    }
    replica.ending = undefined;
    replica.restarts += 1;
    replica.startedAtMs = Date.now();
    replica.child = this.#spawnChild(replica);
    this.#note({
      kind: 'restarted',
      subject: label,
      detail: { pid: replica.child.pid, restarts: replica.restarts },
    });
  }

  async scale(service: string, delta: 1 | -1): Promise<string> {
    const definition = this.definitions.find((candidate) => candidate.name === service);
    if (definition === undefined) {
      throw new ActionRefused(
        { code: 'no-service', service },
        `no service named "${service}" runs here`,
      );
    }
    const own = this.#replicas.filter((replica) => replica.definition === definition);
    const cluster = own.find(
      (replica) => replica.workers > 1 || definition.scaling === 'shared-port',
    );
    if (cluster !== undefined) {
      // Cluster workers share one port: the primary is started again with one more or less.
      const workers = cluster.workers + delta;
      if (workers < 1) {
        throw new ActionRefused(
          { code: 'one-worker-left', service },
          `${service} has one worker left; stop it instead`,
        );
      }
      cluster.ending = 'restarting';
      if (isRunning(cluster.child)) await this.#stopChild(cluster.child);
      this.#replicas.splice(this.#replicas.indexOf(cluster), 1);
      const replica = this.#spawn(definition, 1, workers, `${service}x${workers}`);
      replica.restarts = cluster.restarts + 1;
      this.#note({
        kind: 'scaled',
        subject: replica.label,
        detail: { service, change: 'workers', count: workers },
      });
      return replica.label;
    }
    if (delta === 1) {
      const index = Math.max(0, ...own.map((replica) => replica.index)) + 1;
      // Labels stay as they were: the first one keeps its plain name beside `name#2`.
      const replica = this.#spawn(definition, index, 1, `${service}#${index}`);
      this.#note({
        kind: 'scaled',
        subject: replica.label,
        detail: { service, change: 'added', count: index },
      });
      return replica.label;
    }
    const last = own.sort((a, b) => b.index - a.index)[0];
    if (last === undefined || own.length < 2) {
      throw new ActionRefused(
        { code: 'one-replica-left', service },
        `${service} has one replica left; stop it instead`,
      );
    }
    last.ending = 'removed';
    if (isRunning(last.child)) await this.#stopChild(last.child);
    this.#replicas.splice(this.#replicas.indexOf(last), 1);
    this.#note({
      kind: 'scaled',
      subject: last.label,
      detail: { service, change: 'removed', count: last.index },
    });
    return last.label;
  }

  /** SIGTERM to every process, SIGKILL to those past the deadline. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.#replicas.map((replica) => {
        replica.ending = 'stopped';
        return this.#stopChild(replica.child);
      }),
    );
  }

  #find(label: string): Replica {
    const replica = this.#replicas.find((candidate) => candidate.label === label);
    if (replica === undefined) {
      const known = this.#replicas.map((candidate) => candidate.label);
      throw new ActionRefused(
        { code: 'no-process', label, known },
        `no process labelled "${label}"; running: ${known.join(', ')}`,
      );
    }
    return replica;
  }

  #spawn(definition: ServiceDefinition, index: number, workers: number, label: string): Replica {
    const base = portForUp(definition, this.#options.env);
    const replica: Replica = {
      definition,
      index,
      label,
      port: base + index - 1,
      workers,
      child: undefined as unknown as ChildProcess,
      startedAtMs: Date.now(),
      restarts: 0,
      ending: undefined,
      logs: [],
    };
    replica.child = this.#spawnChild(replica);
    this.#replicas.push(replica);
    this.#note({
      kind: 'started',
      subject: label,
      detail: { pid: replica.child.pid, port: replica.port },
    });
    return replica;
  }

  /** The replica's environment: the stack's, the service's own, its own admin port. */
  #envOf({ definition, index }: Replica): Env {
    const env = { ...this.#options.env, ...this.#options.envOf?.(definition) };
    return { ...env, ...replicaAdminEnv(definition, env, index) };
  }

  #spawnChild(replica: Replica): ChildProcess {
    const { definition, port, workers, index } = replica;
    const args = [cliPath, 'run', definition.name, '--port', String(port)];
    if (workers > 1) args.push('--cluster', String(workers));
    const env = {
      ...mallocSettings,
      ...this.#envOf(replica),
      ...(workers > 1 ? {} : { AGORA_REPLICA: String(index) }),
    };
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#captureLines(child, replica);
    child.once('exit', (code, signal) => {
      this.#onExit(replica, child, code, signal);
    });
    return child;
  }

  #onExit(replica: Replica, child: ChildProcess, code: number | null, signal: string | null) {
    if (this.#stopping || replica.child !== child) return;
    if (replica.ending === undefined) {
      this.#options.logger.error(
        { process: replica.label, childPid: child.pid, code, signal },
        `${replica.label} died; not restarting it`,
      );
      this.#note({
        kind: 'exited',
        subject: replica.label,
        detail: { code, signal, expected: false },
      });
      if (this.alive === 0) this.#options.onEveryProcessDead?.();
    } else if (replica.ending === 'killed' || replica.ending === 'stopped') {
      this.#note({
        kind: 'exited',
        subject: replica.label,
        detail: { code, signal, expected: true },
      });
    }
  }

  #captureLines(child: ChildProcess, replica: Replica): void {
    const echo =
      this.#options.echo ??
      ((line: string, stream: 'stdout' | 'stderr') =>
        (stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`));
    for (const [input, stream] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      if (input === null) continue;
      createInterface({ input }).on('line', (line) => {
        replica.logs.push(line);
        if (replica.logs.length > logLinesKept) replica.logs.shift();
        echo(`[${replica.label}] ${line}`, stream);
      });
    }
  }

  #note(entry: TimelineEntry): void {
    this.#options.note?.(entry);
  }

  async #stopChild(child: ChildProcess): Promise<void> {
    if (!isRunning(child)) return;
    const exited = exitOf(child);
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.#options.logger.warn({ pid: child.pid }, 'did not stop in time; killing it');
      child.kill('SIGKILL');
    }, this.#options.shutdownTimeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
}

function healthUrlOf(definition: ServiceDefinition, port: number, env: Env): string {
  const admin = adminPortOf(definition, env, port);
  return `http://127.0.0.1:${admin ?? port}`;
}
