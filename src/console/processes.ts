/**
 * What the console knows of the processes it shows, and what it may do to them. `agora up`
 * gives it the services of its one process; `agora up --distributed` gives it the supervisor,
 * which owns one OS process per replica and so can kill, restart and scale them.
 */
import type { Backend, ServiceDefinition, SystemName } from '../platform/service.js';

export interface ProcessInfo {
  /** `worker`, `worker#2`, `tasksx3` (three cluster workers on one port). */
  label: string;
  service: string;
  system: SystemName;
  url: string;
  /** Where `/readyz` and `/metrics` answer. */
  healthUrl: string;
  /** The OS pid; the primary's for a cluster. */
  pid: number | undefined;
  state: 'running' | 'stopped' | 'exited';
  /** When it was last started, in ms since the epoch. */
  startedAtMs: number;
  restarts: number;
  /** node:cluster workers sharing its port (1 for a plain process). */
  workers: number;
}

export type KillSignal = 'SIGKILL' | 'SIGTERM';
/** cut: connections reset (the backend went away); partition: held, never answered; latency. */
export type FaultKind = 'cut' | 'partition' | 'latency';

export interface FaultRequest {
  service: string;
  backend: Backend;
  kind: FaultKind;
  seconds: number;
  /** For `latency`: added to each chunk each way. */
  latencyMs?: number;
}

/** What a console can do to processes, where a supervisor owns them. */
export interface ProcessActions {
  kill(label: string, signal: KillSignal): Promise<void>;
  restart(label: string): Promise<void>;
  /** Adds (1) or removes (-1) one replica; returns the label of the one added or removed. */
  scale(service: string, delta: 1 | -1): Promise<string>;
  /** Undefined unless started with the fault proxy (`--faults`). */
  fault?: (request: FaultRequest) => Promise<void>;
}

export interface ProcessSource {
  readonly mode: 'embedded' | 'distributed';
  readonly definitions: readonly ServiceDefinition[];
  list(): readonly ProcessInfo[];
  /** The last lines a process wrote, where the source keeps them. */
  logs(label: string): readonly string[] | undefined;
  actions?: ProcessActions;
}

/** `agora up`: every service in this process; nothing to kill without killing the console. */
export function embeddedSource(
  running: readonly {
    definition: ServiceDefinition;
    url: string;
    healthUrl: string;
  }[],
): ProcessSource {
  const startedAtMs = Date.now();
  const processes: ProcessInfo[] = running.map(({ definition, url, healthUrl }) => ({
    label: definition.name,
    service: definition.name,
    system: definition.system,
    url,
    healthUrl,
    pid: process.pid,
    state: 'running',
    startedAtMs,
    restarts: 0,
    workers: 1,
  }));
  return {
    mode: 'embedded',
    definitions: running.map(({ definition }) => definition),
    list: () => processes,
    logs: () => undefined,
  };
}
