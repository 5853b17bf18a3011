/** The console's JSON: what `/api/snapshot` answers and `/api/stream` sends on each change. */
import type { ProcessFigures } from './figures.js';
import type { LoadRun } from './load-runs.js';
import type { ProcessInfo } from './processes.js';
import type { TimelineEvent } from './timeline.js';

export type Readiness = 'ready' | 'waiting' | 'down' | 'stopped';

export interface ProcessRow extends ProcessInfo, ProcessFigures {
  readiness: Readiness;
  /** The checks of /readyz that are not ok, as "name: why". */
  waitingFor: string[];
  /** For a cluster: the workers seen answering scrapes, by pid. */
  clusterWorkers?: { pid: number; replica: string; requestsPerSecond: number | undefined }[];
}

export interface ServiceNode {
  name: string;
  needs: string[];
  readiness: Readiness;
  processes: string[];
  waitingFor: string[];
}

export interface SystemNode {
  name: string;
  description: string;
  services: ServiceNode[];
}

export interface QueueFigures {
  system: string;
  stream: string;
  group: string;
  length: number | undefined;
  pending: number | undefined;
  lag: number | undefined;
  consumers: number | undefined;
  deadLetters: number | undefined;
  /** The last minute or so, oldest first, one point per look. */
  history: { length: number[]; pending: number[]; lag: number[] };
  error?: string;
}

export interface SystemViews {
  /** News: each area and the nodes serving it. */
  tables: {
    system: string;
    title: string;
    keyLabel: string;
    valuesLabel: string;
    rows: Record<string, readonly string[]>;
    error?: string;
  }[];
  /** Tasks: each replica's (or cluster worker's) share of the requests per second. */
  tasksShare: { process: string; requestsPerSecond: number; share: number }[];
  /** Election: ballots per second by gateway route. */
  electionRoutes: { route: string; ballotsPerSecond: number }[];
  /** Voting and election: time from the stream append to the commit, over the last interval. */
  entryAge: { system: string; p99Ms: number | undefined; meanMs: number | undefined }[];
}

export interface Snapshot {
  at: string;
  mode: 'embedded' | 'distributed';
  /** What the actions are, and why some are missing. */
  actions: { processes: boolean; faults: boolean; loads: boolean; reason?: string };
  backends: { name: string; location: string }[];
  systems: SystemNode[];
  processes: ProcessRow[];
  queues: QueueFigures[];
  views: SystemViews;
  loads: LoadRun[];
  timeline: TimelineEvent[];
}
