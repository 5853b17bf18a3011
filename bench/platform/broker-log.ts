/**
 * The embedded broker's append throughput: in memory only, logged with an fsync per event-loop
 * turn (`always`), and logged with an fsync per second (`everysec`). In one process, no HTTP;
 * one caller at a time and `--connections` callers at once, modes alternating round by round.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MemoryBroker, type PersistenceOptions } from '../../src/platform/broker/memory.js';
import { type Benchmark, progress } from '../support/benchmark.js';

interface Mode {
  name: string;
  persistence: (dataDir: string) => PersistenceOptions | undefined;
}

const modes: readonly Mode[] = [
  { name: 'in memory', persistence: () => undefined },
  { name: 'logged, always', persistence: (dataDir) => ({ dataDir, fsync: 'always' }) },
  { name: 'logged, everysec', persistence: (dataDir) => ({ dataDir, fsync: 'everysec' }) },
];

/** A vote-sized entry, as the vote service appends it. */
const fields = { voter: 'b1946ac92492d2347c6235b4d2611184', vote: 'a', at: '1764583200000' };

export const brokerLogBenchmark: Benchmark = {
  name: 'broker-log',
  description: "the embedded broker's appends: in memory vs logged (always / everysec fsync)",
  run: async (load) => {
    const root = mkdtempSync(join(tmpdir(), 'agora-bench-broker-'));
    progress(`logs under ${root} (${load.rounds} rounds of ${load.durationSeconds} s per mode)`);
    try {
      for (const inFlight of [1, load.connections]) {
        const rates = new Map<string, number[]>(modes.map((mode) => [mode.name, []]));
        for (let round = 0; round < load.rounds; round++) {
          for (const mode of modes) {
            const dataDir = join(root, `${inFlight}-${round}-${mode.name.replace(/\W+/g, '-')}`);
            const rate = await appendRate(mode.persistence(dataDir), inFlight, load);
            rates.get(mode.name)?.push(rate);
            progress(`${inFlight} in flight, ${mode.name}: ${Math.round(rate)} appends/s`);
          }
        }
        printRates(inFlight, rates);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
};

/** Appends for the run's duration with `inFlight` callers, each awaiting its append. */
async function appendRate(
  persistence: PersistenceOptions | undefined,
  inFlight: number,
  load: { durationSeconds: number; warmupSeconds: number },
): Promise<number> {
  const broker = new MemoryBroker({ persistence });
  try {
    await broker.ensureGroup('votes', 'workers');
    const run = async (seconds: number): Promise<number> => {
      const deadline = performance.now() + seconds * 1_000;
      let appended = 0;
      const caller = async (): Promise<void> => {
        while (performance.now() < deadline) {
          await broker.append('votes', fields);
          appended++;
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: inFlight }, caller));
      return appended / ((performance.now() - started) / 1_000);
    };
    if (load.warmupSeconds > 0) await run(Math.min(load.warmupSeconds, 1));
    return await run(load.durationSeconds);
  } finally {
    await broker.close();
  }
}

function printRates(inFlight: number, rates: ReadonlyMap<string, number[]>): void {
  const medianOf = (values: readonly number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  const base = medianOf(rates.get(modes[0]?.name ?? '') ?? []);
  const lines = [`\nappends with ${inFlight} caller(s) in flight (median of rounds)`];
  for (const [name, values] of rates) {
    const median = medianOf(values);
    const ratio = base > 0 ? median / base : 0;
    const spread = values.map((value) => Math.round(value)).join(', ');
    lines.push(
      `  ${name.padEnd(18)} ${String(Math.round(median)).padStart(9)} /s` +
        `  ${ratio.toFixed(3)} x in memory  (rounds: ${spread})`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
