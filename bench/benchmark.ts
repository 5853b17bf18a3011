/**
 * What every benchmark shares: the load settings, the benchmark contract, and `measure`, which
 * warms a server up, loads it with wrk and reads its memory.
 */
import { readMemory, type Measurement } from './report.js';
import type { ServerProcess } from './server-process.js';
import { runWrk, type WrkRequest } from './wrk.js';

export interface LoadSettings {
  threads: number;
  connections: number;
  durationSeconds: number;
  /** A discarded run first, so JIT and connection pools are warm when measuring. */
  warmupSeconds: number;
}

export interface Benchmark {
  name: string;
  description: string;
  run(load: LoadSettings): Promise<void>;
}

/** Warms `server` up, then measures it; every server in a comparison gets the same `load`. */
export async function measure(
  name: string,
  server: ServerProcess,
  load: LoadSettings,
  request?: WrkRequest,
): Promise<Measurement> {
  const wrk = {
    url: server.url,
    threads: load.threads,
    connections: load.connections,
    ...(request === undefined ? {} : { request }),
  };
  if (load.warmupSeconds > 0) {
    progress(`warming up ${name} for ${load.warmupSeconds} s`);
    await runWrk({ ...wrk, durationSeconds: load.warmupSeconds });
  }
  progress(`measuring ${name} for ${load.durationSeconds} s`);
  const result = await runWrk({ ...wrk, durationSeconds: load.durationSeconds });
  return { server: name, result, memory: readMemory(server.pid) };
}

/** Progress goes to stderr, so stdout holds only the figures. */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}
