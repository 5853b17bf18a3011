/**
 * `npm run bench -- <name> [options]`: runs one benchmark and prints its figures. Benchmarks
 * never assert timings; they print what they measured.
 */
import { Command, InvalidArgumentError, Option } from 'commander';

import { counterBenchmark } from './counter/counter.js';
import { electionBenchmark } from './election/election.js';
import { newsBenchmark } from './news/news.js';
import { brokerLogBenchmark } from './platform/broker-log.js';
import { startupBenchmark } from './platform/startup.js';
import { baselineBenchmark } from './support/baseline.js';
import type { Benchmark, LoadSettings } from './support/benchmark.js';
import { tasksBenchmark } from './tasks/tasks.js';
import { votingBenchmark, type VotingSettings } from './voting/voting.js';

/** The voting benchmark's own options, filled in from the command line before it runs. */
const votingSettings: VotingSettings = { drainVotes: 1_000_000, batchSize: 5_000, concurrency: 2 };

const benchmarks: readonly Benchmark[] = [
  counterBenchmark,
  baselineBenchmark,
  votingBenchmark(votingSettings),
  electionBenchmark,
  newsBenchmark,
  tasksBenchmark,
  brokerLogBenchmark,
  startupBenchmark,
];

function wholeNumber(min: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min) {
      throw new InvalidArgumentError(`expected a whole number of at least ${min}.`);
    }
    return value;
  };
}

const list = benchmarks.map((b) => `  ${b.name.padEnd(10)} ${b.description}`).join('\n');

const program = new Command('npm run bench --')
  .description("Run one of Agora's benchmarks and print its figures.")
  .argument('<name>', 'the benchmark to run (listed below)')
  .addOption(
    new Option('--threads <n>', 'wrk threads')
      .env('BENCH_THREADS')
      .default(2)
      .argParser(wholeNumber(1)),
  )
  .addOption(
    new Option('--connections <n>', 'open connections, over all threads')
      .env('BENCH_CONNECTIONS')
      .default(64)
      .argParser(wholeNumber(1)),
  )
  .addOption(
    new Option('--duration <seconds>', 'length of each measured run')
      .env('BENCH_DURATION')
      .default(5)
      .argParser(wholeNumber(1)),
  )
  .addOption(
    new Option('--rounds <n>', 'measured runs per server, alternating servers; medians reported')
      .env('BENCH_ROUNDS')
      .default(3)
      .argParser(wholeNumber(1)),
  )
  .addOption(
    new Option('--warmup <seconds>', 'length of the discarded run before each measurement')
      .env('BENCH_WARMUP')
      .default(3)
      .argParser(wholeNumber(0)),
  )
  .addOption(
    new Option(
      '--parts <letters>',
      'voting, election, news: only these parts, e.g. ab (default: all)',
    )
      .env('BENCH_PARTS')
      .default('')
      .argParser((raw: string) => {
        if (!/^[abcd]*$/.test(raw))
          throw new InvalidArgumentError('expected letters among a, b, c, d.');
        return raw;
      }),
  )
  .addOption(
    new Option('--drain-votes <n>', 'voting: votes pre-filled into the stream the worker drains')
      .env('BENCH_DRAIN_VOTES')
      .default(1_000_000)
      .argParser(wholeNumber(1)),
  )
  .addOption(
    new Option('--batch-size <n>', 'voting: VOTE_BATCH_SIZE of the draining worker')
      .env('VOTE_BATCH_SIZE')
      .default(5_000)
      .argParser(wholeNumber(1)),
  )
  .addOption(
    new Option('--concurrency <n>', 'voting: VOTE_CONCURRENCY (batches in flight) of that worker')
      .env('VOTE_CONCURRENCY')
      .default(2)
      .argParser(wholeNumber(1)),
  )
  .addOption(
    new Option('--worker-cpu-prof <dir>', "voting: write the draining worker's CPU profile here"),
  )
  .addHelpText('after', `\nBenchmarks:\n${list}`)
  .showHelpAfterError('(add --help for usage and the list of benchmarks)')
  .action(
    async (
      name: string,
      options: {
        threads: number;
        connections: number;
        duration: number;
        rounds: number;
        warmup: number;
        parts: string;
        drainVotes: number;
        batchSize: number;
        concurrency: number;
        workerCpuProf?: string;
      },
    ) => {
      const benchmark = benchmarks.find((b) => b.name === name);
      if (benchmark === undefined) {
        return program.error(
          `error: no benchmark named "${name}"; known: ${benchmarks.map((b) => b.name).join(', ')}`,
        );
      }
      if (options.connections < options.threads) {
        return program.error(
          'error: --connections must be at least --threads (wrk needs one per thread)',
        );
      }
      const load: LoadSettings = {
        threads: options.threads,
        connections: options.connections,
        durationSeconds: options.duration,
        rounds: options.rounds,
        warmupSeconds: options.warmup,
        parts: options.parts,
      };
      votingSettings.drainVotes = options.drainVotes;
      votingSettings.batchSize = options.batchSize;
      votingSettings.concurrency = options.concurrency;
      if (options.workerCpuProf !== undefined) votingSettings.cpuProfileDir = options.workerCpuProf;
      await benchmark.run(load);
    },
  );

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
