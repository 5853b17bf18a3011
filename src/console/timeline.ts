/**
 * The console's timeline: what happened, when, to which process, newest last, bounded. Each
 * event carries its facts as data (`detail`), which the page puts in its own language, and an
 * English `message` for the terminal (`agora status --watch`).
 */
import type { FaultKind, KillSignal } from './processes.js';
import { describeWait, type Wait } from './waits.js';

export interface TimelineDetails {
  started: { pid: number | undefined; port: number };
  ready: Record<string, never>;
  'not-ready': { waits: Wait[] };
  down: { waits: Wait[] };
  killed: { signal: KillSignal; pid: number | undefined };
  stopped: { signal: KillSignal; pid: number | undefined };
  /** `expected`: the console killed or stopped it; otherwise it died on its own. */
  exited: { code: number | null; signal: string | null; expected: boolean };
  restarted: { pid: number | undefined; restarts: number };
  /** added/removed: a replica of that index; workers: a cluster now of `count` workers. */
  scaled: { service: string; change: 'added' | 'removed' | 'workers'; count: number };
  reclaimed: { count: number };
  'dead-lettered': { count: number };
  reassigned: { from: string[]; to: string[] };
  fault: {
    backend: 'broker' | 'sql';
    fault: FaultKind;
    latencyMs: number | undefined;
    seconds: number;
    lifted: boolean;
  };
  load:
    | { id: number; phase: 'started'; rate: number; durationSeconds: number }
    | {
        id: number;
        phase: 'passed' | 'failed';
        exitCode: number;
        /** Undefined when `agora load` printed no report. */
        acknowledged: number | undefined;
        checked: number | undefined;
        differences: number | undefined;
      };
}

export type TimelineKind = keyof TimelineDetails;

/** What a caller adds: the kind, its subject (process, service, stream or area) and facts. */
export type TimelineEntry = {
  [K in TimelineKind]: { kind: K; subject: string; detail: TimelineDetails[K] };
}[TimelineKind];

export type TimelineEvent = TimelineEntry & {
  id: number;
  at: string;
  /** English, for the terminal. */
  message: string;
};

const kept = 500;

export class Timeline {
  readonly #events: TimelineEvent[] = [];
  #nextId = 1;

  add(entry: TimelineEntry): TimelineEvent {
    const event = {
      ...entry,
      id: this.#nextId++,
      at: new Date().toISOString(),
      message: describeEvent(entry),
    };
    this.#events.push(event);
    if (this.#events.length > kept) this.#events.splice(0, this.#events.length - kept);
    return event;
  }

  /** Events after `afterId`, oldest first; the last `limit` of them. */
  since(afterId = 0, limit = kept): TimelineEvent[] {
    return this.#events.filter((event) => event.id > afterId).slice(-limit);
  }
}

const listed = (values: readonly string[]) => values.join(', ') || 'none';

/** The English sentence of an event. */
export function describeEvent(entry: TimelineEntry): string {
  switch (entry.kind) {
    case 'started':
      return `pid ${entry.detail.pid} on port ${entry.detail.port}`;
    case 'ready':
      return 'ready';
    case 'not-ready':
      return `waiting for ${entry.detail.waits.map(describeWait).join('; ') || 'its checks'}`;
    case 'down':
      return entry.detail.waits.map(describeWait).join('; ') || 'not answering';
    case 'killed':
    case 'stopped':
      return `${entry.detail.signal} to pid ${entry.detail.pid}`;
    case 'exited': {
      const { code, signal, expected } = entry.detail;
      const how = signal === null ? `exit code ${code}` : signal;
      return expected ? `exited (${how})` : `died (${how}); not restarted`;
    }
    case 'restarted':
      return `pid ${entry.detail.pid}, restart ${entry.detail.restarts}`;
    case 'scaled': {
      const { service, change, count } = entry.detail;
      return change === 'workers'
        ? `${service}: ${count} cluster workers`
        : `${service}: replica ${count} ${change}`;
    }
    case 'reclaimed':
      return `reclaimed ${entry.detail.count} entries a dead consumer left pending`;
    case 'dead-lettered':
      return `${entry.detail.count} unparseable entries moved to dead letters`;
    case 'reassigned':
      return `${entry.subject}: ${listed(entry.detail.from)} -> ${listed(entry.detail.to)}`;
    case 'fault': {
      const { backend, fault, latencyMs, seconds, lifted } = entry.detail;
      const what = `${fault}${fault === 'latency' ? ` ${latencyMs ?? 200} ms` : ''}`;
      return lifted ? `${backend} ${what} lifted` : `${backend} ${what} for ${seconds}s`;
    }
    case 'load': {
      const { detail } = entry;
      if (detail.phase === 'started') {
        return `load ${detail.id} started: ${detail.rate}/s for ${detail.durationSeconds}s`;
      }
      if (detail.acknowledged === undefined) {
        return `load ${detail.id} ${detail.phase}: no report (exit code ${detail.exitCode})`;
      }
      return (
        `load ${detail.id} ${detail.phase}: ${detail.acknowledged} acknowledged` +
        (detail.checked === undefined
          ? ''
          : `, ${detail.checked} checked against the store, ${detail.differences} differences`)
      );
    }
  }
}
