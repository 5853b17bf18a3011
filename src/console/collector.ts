/**
 * The console's eyes: every interval it reads each process's `/readyz` and `/metrics`, each
 * declared stream's figures from the broker and each system's view from its tables, turns
 * them into a Snapshot, and writes what changed (ready, not ready, down, reclaimed entries,
 * dead letters, areas moved) to the timeline.
 */
import type { Broker } from '../platform/broker/broker.js';
import type { Logger } from '../platform/logger.js';
import type { SqlQueryable } from '../platform/sql/sql.js';
import type { SystemDefinition } from '../platform/system.js';
import { figuresOf, p99FromBuckets, type ProcessFigures, type Scrape } from './figures.js';
import type { ProcessInfo, ProcessSource } from './processes.js';
import { type Sample, sum } from './prometheus-text.js';
import { readMetrics, readReadiness } from './scrape.js';
import type {
  ProcessRow,
  QueueFigures,
  Readiness,
  ServiceNode,
  Snapshot,
  SystemNode,
  SystemViews,
} from './snapshot.js';
import type { Timeline } from './timeline.js';
import type { Wait } from './waits.js';

export interface CollectorOptions {
  source: ProcessSource;
  systems: readonly SystemDefinition[];
  broker?: Broker;
  sql?: SqlQueryable;
  backends: { name: string; location: string }[];
  timeline: Timeline;
  logger: Logger;
  timeoutMs: number;
}

const historyLength = 60;

interface Seen {
  readiness: Readiness;
  /** Per pid: a cluster's workers are scraped one connection at a time. */
  scrapes: Map<number, Scrape>;
  previous: Map<number, Scrape>;
  reclaimed: number | undefined;
  deadLettered: number | undefined;
}

export class Collector {
  readonly #options: CollectorOptions;
  readonly #seen = new Map<string, Seen>();
  readonly #history = new Map<string, QueueFigures['history']>();
  readonly #views = new Map<string, Record<string, readonly string[]>>();
  #latest: Omit<Snapshot, 'loads' | 'timeline' | 'actions'> | undefined;

  constructor(options: CollectorOptions) {
    this.#options = options;
  }

  get latest() {
    return this.#latest;
  }

  async collect(): Promise<void> {
    const processes = this.#options.source.list();
    const rows = await Promise.all(processes.map((info) => this.#row(info)));
    const [queues, tables] = await Promise.all([this.#queues(), this.#tables()]);
    this.#latest = {
      at: new Date().toISOString(),
      mode: this.#options.source.mode,
      backends: this.#options.backends,
      systems: this.#topology(rows),
      processes: rows,
      queues,
      views: { ...this.#derivedViews(rows), tables },
    };
  }

  async #row(info: ProcessInfo): Promise<ProcessRow> {
    let seen = this.#seen.get(info.label);
    if (seen === undefined) {
      seen = {
        readiness: 'stopped',
        scrapes: new Map(),
        previous: new Map(),
        reclaimed: undefined,
        deadLettered: undefined,
      };
      this.#seen.set(info.label, seen);
    }
    if (info.state !== 'running') {
      this.#transition(info.label, seen, info.state === 'stopped' ? 'stopped' : 'down', []);
      seen.scrapes.clear();
      return { ...info, ...emptyFigures(info.pid), readiness: seen.readiness, waitingFor: [] };
    }
    const { timeoutMs } = this.#options;
    const scrapeCount = info.workers > 1 ? info.workers * 2 : 1;
    const [ready, ...scrapes] = await Promise.all([
      readReadiness(info.healthUrl, timeoutMs),
      ...Array.from({ length: scrapeCount }, () => readMetrics(info.healthUrl, timeoutMs)),
    ]);
    const atMs = Date.now();
    for (const samples of scrapes) {
      if (samples === undefined) continue;
      const pid = pidOf(samples) ?? info.pid ?? 0;
      const last = seen.scrapes.get(pid);
      if (last !== undefined) seen.previous.set(pid, last);
      seen.scrapes.set(pid, { atMs, samples });
    }
    this.#transition(info.label, seen, ready.state, ready.waitingFor);
    this.#noteCounters(info.label, seen);

    const perWorker = [...seen.scrapes].map(([pid, scrape]) => ({
      pid,
      replica: scrape.samples.find((s) => s.name === 'agora_process_info')?.labels.replica ?? '1',
      figures: figuresOf(scrape, seen.previous.get(pid)),
    }));
    const figures = combine(
      perWorker.map((worker) => worker.figures),
      info.pid,
    );
    return {
      ...info,
      ...figures,
      readiness: seen.readiness,
      waitingFor: ready.waitingFor,
      ...(info.workers > 1
        ? {
            clusterWorkers: perWorker.map(({ pid, replica, figures: own }) => ({
              pid,
              replica,
              requestsPerSecond: own.requestsPerSecond,
            })),
          }
        : {}),
    };
  }

  #transition(label: string, seen: Seen, next: Readiness, waitingFor: readonly Wait[]) {
    if (seen.readiness === next) return;
    const { timeline } = this.#options;
    const waits = [...waitingFor];
    if (next === 'ready') timeline.add({ kind: 'ready', subject: label, detail: {} });
    else if (next === 'waiting') {
      timeline.add({ kind: 'not-ready', subject: label, detail: { waits } });
    } else if (next === 'down' && seen.readiness !== 'stopped') {
      timeline.add({ kind: 'down', subject: label, detail: { waits } });
    }
    seen.readiness = next;
  }

  /** Reclaimed entries and dead letters, from the consumers' counters. */
  #noteCounters(label: string, seen: Seen): void {
    const samples = [...seen.scrapes.values()].flatMap((scrape) => scrape.samples);
    const reclaimed = sumMatching(samples, /_entries_reclaimed_total$/);
    const deadLettered = sumMatching(samples, /_dead_letters_total$/);
    if (seen.reclaimed !== undefined && reclaimed > seen.reclaimed) {
      this.#options.timeline.add({
        kind: 'reclaimed',
        subject: label,
        detail: { count: reclaimed - seen.reclaimed },
      });
    }
    if (seen.deadLettered !== undefined && deadLettered > seen.deadLettered) {
      this.#options.timeline.add({
        kind: 'dead-lettered',
        subject: label,
        detail: { count: deadLettered - seen.deadLettered },
      });
    }
    seen.reclaimed = reclaimed;
    seen.deadLettered = deadLettered;
  }

  #topology(rows: readonly ProcessRow[]): SystemNode[] {
    const shown = new Set(this.#options.source.definitions.map((definition) => definition.name));
    return this.#options.systems
      .map((system) => ({
        name: system.name,
        description: system.description,
        services: system.services
          .filter((service) => shown.has(service.name))
          .map((service): ServiceNode => {
            const own = rows.filter((row) => row.service === service.name);
            return {
              name: service.name,
              needs: [...service.needs],
              readiness: worstOf(own.map((row) => row.readiness)),
              processes: own.map((row) => row.label),
              waitingFor: distinct(own.flatMap((row) => row.waitingFor)),
            };
          }),
      }))
      .filter((system) => system.services.length > 0);
  }

  async #queues(): Promise<QueueFigures[]> {
    const { broker } = this.#options;
    const shown = new Set(this.#options.source.definitions.map((definition) => definition.system));
    const declared = this.#options.systems
      .filter((system) => shown.has(system.name))
      .flatMap((system) =>
        (system.console?.queues ?? []).map((queue) => ({ system: system.name, ...queue })),
      );
    return Promise.all(
      declared.map(async ({ system, stream, group, deadLetterStream }): Promise<QueueFigures> => {
        const history = this.#historyOf(stream);
        const figures: QueueFigures = {
          system,
          stream,
          group,
          length: undefined,
          pending: undefined,
          lag: undefined,
          consumers: undefined,
          deadLetters: undefined,
          history,
        };
        if (broker === undefined) return { ...figures, error: { code: 'no-broker' } };
        try {
          figures.length = await broker.streamLength(stream);
          figures.deadLetters =
            deadLetterStream === undefined
              ? undefined
              : await broker.streamLength(deadLetterStream);
          const info = await broker.groupInfo(stream, group).catch((error: unknown) => {
            // No group yet: no consumer has started; everything in the stream is lag.
            if ((error as Error).name === 'NoGroupError' || /no such key/i.test(String(error))) {
              return { pending: 0, lag: figures.length ?? 0, consumers: 0 };
            }
            throw error;
          });
          Object.assign(figures, info);
        } catch (error) {
          figures.error = {
            code: 'failed',
            text: error instanceof Error ? error.message : String(error),
          };
        }
        push(history.length, figures.length ?? 0);
        push(history.pending, figures.pending ?? 0);
        push(history.lag, figures.lag ?? 0);
        return figures;
      }),
    );
  }

  #historyOf(stream: string): QueueFigures['history'] {
    let history = this.#history.get(stream);
    if (history === undefined) {
      history = { length: [], pending: [], lag: [] };
      this.#history.set(stream, history);
    }
    return history;
  }

  async #tables(): Promise<SystemViews['tables']> {
    const { sql } = this.#options;
    const shown = new Set(this.#options.source.definitions.map((definition) => definition.system));
    const withViews = this.#options.systems.filter(
      (system) => system.console?.view !== undefined && shown.has(system.name),
    );
    return Promise.all(
      withViews.map(async (system) => {
        const view = system.console?.view;
        if (view === undefined) throw new Error('unreachable');
        const { title, keyLabel, valuesLabel } = view;
        const table = { system: system.name, title, keyLabel, valuesLabel, rows: {} };
        if (sql === undefined) return { ...table, error: { code: 'no-database' as const } };
        try {
          const rows = await view.read(sql);
          this.#noteMoves(system.name, rows);
          return { ...table, rows };
        } catch (error) {
          // Before its migrations ran the tables are not there: say so, keep the last rows.
          const message = error instanceof Error ? error.message : String(error);
          return {
            ...table,
            rows: this.#views.get(system.name) ?? {},
            error: { code: 'failed' as const, text: message },
          };
        }
      }),
    );
  }

  #noteMoves(system: string, rows: Record<string, readonly string[]>): void {
    const before = this.#views.get(system);
    this.#views.set(system, rows);
    if (before === undefined) return;
    for (const [key, values] of Object.entries(rows)) {
      const old = before[key] ?? [];
      if (old.join(',') === values.join(',')) continue;
      this.#options.timeline.add({
        kind: 'reassigned',
        subject: key,
        detail: { from: [...old], to: [...values] },
      });
    }
  }

  #derivedViews(rows: readonly ProcessRow[]): Omit<SystemViews, 'tables'> {
    const tasksRates = rows
      .filter((row) => row.service === 'tasks')
      .flatMap((row) =>
        row.clusterWorkers === undefined
          ? [{ process: row.label, requestsPerSecond: row.requestsPerSecond ?? 0 }]
          : row.clusterWorkers.map((worker) => ({
              process: row.label,
              worker: { replica: worker.replica, pid: worker.pid },
              requestsPerSecond: worker.requestsPerSecond ?? 0,
            })),
      );
    const tasksTotal = tasksRates.reduce((total, rate) => total + rate.requestsPerSecond, 0);
    return {
      tasksShare: tasksRates.map((rate) => ({
        ...rate,
        share: tasksTotal > 0 ? rate.requestsPerSecond / tasksTotal : 0,
      })),
      electionRoutes: this.#electionRoutes(),
      entryAge: [
        { system: 'voting', ...this.#entryAge('worker', 'voting_entry_age_seconds') },
        {
          system: 'election',
          ...this.#entryAge('election-subscriber', 'election_subscriber_entry_age_seconds'),
        },
      ],
    };
  }

  /** Pairs of (previous, current) scrapes of every process of a service. */
  #pairsOf(service: string): [Scrape, Scrape][] {
    const pairs: [Scrape, Scrape][] = [];
    for (const info of this.#options.source.list()) {
      if (info.service !== service) continue;
      const seen = this.#seen.get(info.label);
      for (const [pid, current] of seen?.scrapes ?? []) {
        const previous = seen?.previous.get(pid);
        if (previous !== undefined) pairs.push([previous, current]);
      }
    }
    return pairs;
  }

  #electionRoutes(): SystemViews['electionRoutes'] {
    const rates = new Map<string, number>();
    for (const [previous, current] of this.#pairsOf('election-gateway')) {
      const seconds = (current.atMs - previous.atMs) / 1000;
      if (seconds <= 0) continue;
      for (const route of ['grpc', 'redis', 'random']) {
        const count = (samples: readonly Sample[]) =>
          sum(
            samples,
            'election_gateway_ballots_total',
            (labels) => labels.route === route && labels.outcome === 'accepted',
          );
        const grown = count(current.samples) - count(previous.samples);
        if (grown >= 0) rates.set(route, (rates.get(route) ?? 0) + grown / seconds);
      }
    }
    return [...rates].map(([route, ballotsPerSecond]) => ({ route, ballotsPerSecond }));
  }

  #entryAge(
    service: string,
    metric: string,
  ): { p99Ms: number | undefined; meanMs: number | undefined } {
    const before = new Map<number, number>();
    const after = new Map<number, number>();
    let sumGrown = 0;
    let countGrown = 0;
    for (const [previous, current] of this.#pairsOf(service)) {
      for (const [into, scrape] of [
        [before, previous],
        [after, current],
      ] as const) {
        for (const sample of scrape.samples) {
          if (sample.name !== `${metric}_bucket`) continue;
          const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
          into.set(le, (into.get(le) ?? 0) + sample.value);
        }
      }
      sumGrown += sum(current.samples, `${metric}_sum`) - sum(previous.samples, `${metric}_sum`);
      countGrown +=
        sum(current.samples, `${metric}_count`) - sum(previous.samples, `${metric}_count`);
    }
    const p99 = p99FromBuckets(before, after);
    return {
      p99Ms: p99 === undefined ? undefined : p99 * 1000,
      meanMs: countGrown > 0 ? (sumGrown / countGrown) * 1000 : undefined,
    };
  }
}

/** The same wait once, though several replicas wait for it. */
function distinct(waits: readonly Wait[]): Wait[] {
  const byText = new Map(waits.map((wait) => [JSON.stringify(wait), wait]));
  return [...byText.values()];
}

function push(series: number[], value: number): void {
  series.push(value);
  if (series.length > historyLength) series.shift();
}

function pidOf(samples: readonly Sample[]): number | undefined {
  const pid = samples.find((sample) => sample.name === 'agora_process_info')?.labels.pid;
  return pid === undefined ? undefined : Number(pid);
}

function sumMatching(samples: readonly Sample[], name: RegExp): number {
  let total = 0;
  for (const sample of samples) if (name.test(sample.name)) total += sample.value;
  return total;
}

const order: Readiness[] = ['ready', 'waiting', 'stopped', 'down'];

function worstOf(states: readonly Readiness[]): Readiness {
  if (states.length === 0) return 'down';
  // A service is as ready as its best replica: one answering replica serves.
  return states.reduce((best, state) =>
    order.indexOf(state) < order.indexOf(best) ? state : best,
  );
}

function emptyFigures(pid: number | undefined): ProcessFigures {
  return {
    pid,
    uptimeSeconds: undefined,
    rssBytes: undefined,
    cpuPercent: undefined,
    requestsPerSecond: undefined,
    errorRate: undefined,
    p99Ms: undefined,
  };
}

/** One row for a cluster's workers: rates and memory add up, p99 is the worst worker's. */
function combine(all: readonly ProcessFigures[], pid: number | undefined): ProcessFigures {
  const [only] = all;
  if (all.length <= 1)
    return only === undefined ? emptyFigures(pid) : { ...only, pid: pid ?? only.pid };
  const total = (pick: (figures: ProcessFigures) => number | undefined) => {
    const values = all.map(pick).filter((value) => value !== undefined);
    return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
  };
  const requests = total((figures) => figures.requestsPerSecond);
  const errors = total((figures) => (figures.requestsPerSecond ?? 0) * (figures.errorRate ?? 0));
  const p99s = all.map((figures) => figures.p99Ms).filter((value) => value !== undefined);
  return {
    pid,
    uptimeSeconds: Math.max(...all.map((figures) => figures.uptimeSeconds ?? 0)),
    rssBytes: total((figures) => figures.rssBytes),
    cpuPercent: total((figures) => figures.cpuPercent),
    requestsPerSecond: requests,
    errorRate: requests !== undefined && requests > 0 ? (errors ?? 0) / requests : undefined,
    p99Ms: p99s.length === 0 ? undefined : Math.max(...p99s),
  };
}
