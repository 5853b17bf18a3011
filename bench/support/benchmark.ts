/**
 * What every benchmark shares: the load settings, the benchmark contract, and `measure`, which
 * warms a server up, loads it with wrk and reads its memory.
 */
import { type Measurement, readMemory } from './report.js';
import type { ServerProcess } from './server-process.js';
import { runWrk, type WrkRequest } from './wrk.js';

export interface LoadSettings {
  threads: number;
  connections: number;
  durationSeconds: number;
  /** Measured runs per server; servers alternate run by run so drift hits them alike. */
  rounds: number;
  /** A discarded run first, so JIT and connection pools are warm when measuring. */
  warmupSeconds: number;
  /** Which lettered parts (a, b, c) of a benchmark that has them to run; all when empty. */
  parts: string;
}

/** Whether `part` (a letter) of a benchmark is to run under `load`. */
export function runsPart(load: LoadSettings, part: string): boolean {
  return load.parts === '' || load.parts.includes(part);
}

export interface Benchmark {
  name: string;
  description: string;
  run(load: LoadSettings): Promise<void>;
}

/** A server under comparison: how to start it, and the request wrk sends it. */
export interface Contender {
  name: string;
  start(): Promise<ServerProcess>;
  request?: WrkRequest;
}

export interface Comparison {
  /** Per contender, its median run by requests/s. */
  medians: Measurement[];
  /** Per round, each contender's requests/s over the first contender's (the baseline). */
  roundRatios: number[][];
}

/**
 * Starts every contender, warms each up, then measures them in turn for `load.rounds` rounds.
 * Only one is loaded at a time; alternating them spreads this shared machine's drift over all,
 * so the ratios compare like with like.
 */
export async function compare(
  contenders: readonly Contender[],
  load: LoadSettings,
): Promise<Comparison> {
  const servers: ServerProcess[] = [];
  try {
    for (const contender of contenders) servers.push(await contender.start());
    const wrkOf = (index: number, durationSeconds: number) => ({
      url: servers[index]?.url ?? '',
      threads: load.threads,
      connections: load.connections,
      durationSeconds,
      ...(contenders[index]?.request === undefined ? {} : { request: contenders[index].request }),
    });
    if (load.warmupSeconds > 0) {
      for (const [index, contender] of contenders.entries()) {
        progress(`warming up ${contender.name} for ${load.warmupSeconds} s`);
        await runWrk(wrkOf(index, load.warmupSeconds));
      }
    }
    const runs: Measurement[][] = contenders.map(() => []);
    for (let round = 1; round <= load.rounds; round++) {
      for (const [index, contender] of contenders.entries()) {
        progress(
          `round ${round}/${load.rounds}: measuring ${contender.name} for ${load.durationSeconds} s`,
        );
        const result = await runWrk(wrkOf(index, load.durationSeconds));
        const server = servers[index];
        runs[index]?.push({
          server: contender.name,
          result,
          memory: server === undefined ? undefined : readMemory(server.pid),
        });
      }
    }
    const rates = runs.map((list) => list.map((run) => run.result.requestsPerSecond));
    return {
      medians: runs.map(medianRun),
      roundRatios: Array.from({ length: load.rounds }, (_, round) =>
        rates.map((list) => (list[round] ?? 0) / (rates[0]?.[round] ?? 1)),
      ),
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

function medianRun(runs: readonly Measurement[]): Measurement {
  const sorted = [...runs].sort((a, b) => a.result.requestsPerSecond - b.result.requestsPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (median === undefined) throw new Error('no runs to take a median of');
  return median;
}

/** Progress goes to stderr, so stdout holds only the figures. */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}
