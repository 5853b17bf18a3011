/** The console's JSON: what `/api/snapshot` answers and `/api/stream` sends on each change. */
import type { ProcessFigures } from './figures.js';
import type { LoadRun } from './load-runs.js';
import type { ProcessInfo } from './processes.js';
import type { TimelineEvent } from './timeline.js';
import type { Wait } from './waits.js';

export type Readiness = 'ready' | 'waiting' | 'down' | 'stopped';

export interface ProcessRow extends ProcessInfo, ProcessFigures {
  readiness: Readiness;
  /** The checks of /readyz that are not ok, and why. */
  waitingFor: Wait[];
  /** For a cluster: the workers seen answering scrapes, by pid. */
  clusterWorkers?: { pid: number; replica: string; requestsPerSecond: number | undefined }[];
}

export interface ServiceNode {
  name: string;
  needs: string[];
  readiness: Readiness;
  processes: string[];
  waitingFor: Wait[];
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
  error?: ReadError;
}

/** Why a figure could not be read: no backend in this console, or the backend's own error. */
export type ReadError =
  { code: 'no-broker' } | { code: 'no-database' } | { code: 'failed'; text: string };

export interface SystemViews {
  /** News: each area and the nodes serving it. */
  tables: {
    system: string;
    title: string;
    keyLabel: string;
    valuesLabel: string;
    rows: Record<string, readonly string[]>;
    error?: ReadError;
  }[];
  /** Tasks: each replica's (or cluster worker's) share of the requests per second. */
  tasksShare: {
    process: string;
    /** A cluster worker of that process. */
    worker?: { replica: string; pid: number };
    requestsPerSecond: number;
    share: number;
  }[];
  /** Election: ballots per second by gateway route. */
  electionRoutes: { route: string; ballotsPerSecond: number }[];
  /** Voting and election: time from the stream append to the commit, over the last interval. */
  entryAge: { system: string; p99Ms: number | undefined; meanMs: number | undefined }[];
}

export interface Snapshot {
  at: string;
  mode: 'embedded' | 'distributed';
  /**
   * What the actions are, and why some are missing: embedded, everything runs in one process
   * (load runs still work); distributed without `--faults`, no fault proxy.
   */
  actions: {
    processes: boolean;
    faults: boolean;
    loads: boolean;
    /** The systems `agora load` has a profile for. */
    loadProfiles: string[];
    reason?: 'needs-distributed' | 'needs-fault-proxy';
  };
  backends: { name: string; location: string }[];
  systems: SystemNode[];
  processes: ProcessRow[];
  queues: QueueFigures[];
  views: SystemViews;
  loads: LoadRun[];
  timeline: TimelineEvent[];
}
