/**
 * Load runs started from the console: each is `agora load <system>` as a child process (the
 * same command a person types), its plain progress lines shown live, its JSON report read at
 * the end for the figure that matters: acknowledged against stored.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import type { Env } from '../platform/config.js';
import { UsageError } from '../platform/errors.js';
import type { Timeline } from './timeline.js';

const cliPath = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const runsKept = 20;

export interface LoadRequest {
  system: string;
  /** Arrivals per second (open model). */
  rate: number;
  durationSeconds: number;
}

export interface LoadRun extends LoadRequest {
  id: number;
  startedAt: string;
  state: 'running' | 'passed' | 'failed';
  /** The latest progress line of `agora load`. */
  progress: string | undefined;
  exitCode?: number;
  result?: {
    acknowledged: number;
    failed: number;
    requestsPerSecond: number;
    p99Ms: number | undefined;
    verification:
      { ok: boolean; checked: number; differences: number; store: string | undefined } | undefined;
  };
  error?: string;
}

/** The part of `agora load --json`'s report the console shows. */
interface ReportJson {
  acknowledged?: number;
  total?: { failed?: number; rps?: number; latencyMs?: { p99?: number } };
  verification?: { ok?: boolean; checked?: number; differenceCount?: number; store?: string };
}

export class LoadRuns {
  readonly #runs: LoadRun[] = [];
  readonly #children = new Map<number, ChildProcess>();
  #nextId = 1;

  constructor(
    private readonly options: {
      profiles: readonly string[];
      env: Env;
      timeline: Timeline;
    },
  ) {}

  get profiles(): readonly string[] {
    return this.options.profiles;
  }

  list(): LoadRun[] {
    return this.#runs.map((run) => ({ ...run }));
  }

  get(id: number): LoadRun | undefined {
    return this.#runs.find((run) => run.id === id);
  }

  start(request: LoadRequest): LoadRun {
    if (!this.options.profiles.includes(request.system)) {
      throw new UsageError(
        `no load profile "${request.system}"; known: ${this.options.profiles.join(', ')}`,
      );
    }
    if ([...this.#children.keys()].length > 0) {
      throw new UsageError('a load run is already going; wait for it or stop it first');
    }
    const run: LoadRun = {
      ...request,
      id: this.#nextId++,
      startedAt: new Date().toISOString(),
      state: 'running',
      progress: undefined,
    };
    this.#runs.push(run);
    if (this.#runs.length > runsKept) this.#runs.shift();
    const args = [
      cliPath,
      'load',
      request.system,
      '--rate',
      String(request.rate),
      '--duration',
      `${request.durationSeconds}s`,
      '--json',
    ];
    const child = spawn(process.execPath, args, {
      env: { ...this.options.env, LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#children.set(run.id, child);
    this.options.timeline.add(
      'load',
      request.system,
      `load ${run.id} started: ${request.rate}/s for ${request.durationSeconds}s`,
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.trim() !== '') run.progress = line.trim();
    });
    child.once('exit', (code) => {
      this.#children.delete(run.id);
      run.exitCode = code ?? 1;
      try {
        run.result = resultOf(JSON.parse(stdout) as ReportJson);
      } catch {
        run.error = `agora load printed no report (exit code ${run.exitCode}): ${run.progress ?? ''}`;
      }
      run.state =
        run.exitCode === 0 && run.result?.verification?.ok !== false ? 'passed' : 'failed';
      const verification = run.result?.verification;
      this.options.timeline.add(
        'load',
        request.system,
        verification === undefined
          ? `load ${run.id} ${run.state}${run.error === undefined ? '' : `: ${run.error}`}`
          : `load ${run.id} ${run.state}: ${run.result?.acknowledged ?? 0} acknowledged, ` +
              `${verification.checked} checked against the store, ${verification.differences} differences`,
      );
    });
    return run;
  }

  /** Interrupts a run; `agora load` still verifies and reports what it had. */
  stop(id: number): void {
    const child = this.#children.get(id);
    if (child === undefined) throw new UsageError(`load ${id} is not running`);
    child.kill('SIGINT');
  }

  close(): void {
    for (const child of this.#children.values()) child.kill('SIGINT');
  }
}

function resultOf(report: ReportJson): LoadRun['result'] {
  const { verification } = report;
  return {
    acknowledged: report.acknowledged ?? 0,
    failed: report.total?.failed ?? 0,
    requestsPerSecond: report.total?.rps ?? 0,
    p99Ms: report.total?.latencyMs?.p99,
    verification:
      verification === undefined
        ? undefined
        : {
            ok: verification.ok === true,
            checked: verification.checked ?? 0,
            differences: verification.differenceCount ?? 0,
            store: verification.store,
          },
  };
}
