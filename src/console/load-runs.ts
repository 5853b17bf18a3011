/**
 * Load runs started from the console: each is `agora load <system>` as a child process (the
 * same command a person types), its plain progress lines shown live, its JSON report read at
 * the end for the figure that matters: acknowledged against stored.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { parsePlainTick, type PlainTickFigures } from '../load/live-view.js';
import type { Env } from '../platform/config.js';
import { ActionRefused } from './refusals.js';
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
  /** Running: `agora load`'s latest figures; verifying once it checks against the store. */
  progress: (PlainTickFigures & { verifying: boolean }) | undefined;
  /** The last line `agora load` wrote on stderr, as it wrote it (English). */
  lastLine: string | undefined;
  exitCode?: number;
  result?: {
    acknowledged: number;
    failed: number;
    requestsPerSecond: number;
    p99Ms: number | undefined;
    verification:
      { ok: boolean; checked: number; differences: number; store: string | undefined } | undefined;
  };
  /** `agora load` ended without a JSON report (a bad option, an unreachable system). */
  noReport?: true;
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
      throw new ActionRefused(
        { code: 'no-load-profile', system: request.system, known: [...this.options.profiles] },
        `no load profile "${request.system}"; known: ${this.options.profiles.join(', ')}`,
      );
    }
    if ([...this.#children.keys()].length > 0) {
      throw new ActionRefused(
        { code: 'load-running' },
        'a load run is already going; wait for it or stop it first',
      );
    }
    const run: LoadRun = {
      ...request,
      id: this.#nextId++,
      startedAt: new Date().toISOString(),
      state: 'running',
      progress: undefined,
      lastLine: undefined,
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
    this.options.timeline.add({
      kind: 'load',
      subject: request.system,
      detail: {
        id: run.id,
        phase: 'started',
        rate: request.rate,
        durationSeconds: request.durationSeconds,
      },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.trim() === '') return;
      run.lastLine = line.trim();
      const figures = parsePlainTick(run.lastLine);
      if (figures !== undefined) run.progress = { ...figures, verifying: false };
      else if (/: verifying \d+ acknowledged/.test(run.lastLine) && run.progress !== undefined) {
        run.progress = { ...run.progress, verifying: true };
      }
    });
    child.once('exit', (code) => {
      this.#children.delete(run.id);
      run.exitCode = code ?? 1;
      try {
        run.result = resultOf(JSON.parse(stdout) as ReportJson);
      } catch {
        run.noReport = true;
      }
      run.state =
        run.exitCode === 0 && run.result?.verification?.ok !== false ? 'passed' : 'failed';
      const verification = run.result?.verification;
      this.options.timeline.add({
        kind: 'load',
        subject: request.system,
        detail: {
          id: run.id,
          phase: run.state,
          exitCode: run.exitCode,
          acknowledged: run.result?.acknowledged,
          checked: verification?.checked,
          differences: verification?.differences,
        },
      });
    });
    return run;
  }

  /** Interrupts a run; `agora load` still verifies and reports what it had. */
  stop(id: number): void {
    const child = this.#children.get(id);
    if (child === undefined) {
      throw new ActionRefused({ code: 'load-not-running', id }, `load ${id} is not running`);
    }
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
