/**
 * The voting benchmark of issue 3, three figures in one run against real Redis and Postgres:
 * (a) vote's `POST /` beside the node:http baseline under wrk; (b) one worker draining a
 * pre-filled stream beside COPY of the same rows; (c) vote-to-result latency at a steady rate.
 */
import { baseline } from '../support/baseline.js';
import {
  type Benchmark,
  compare,
  type Contender,
  progress,
  runsPart,
} from '../support/benchmark.js';
import { printReport } from '../support/report.js';
import { assertWrkInstalled, type WrkRequest } from '../support/wrk.js';
import { startAofRedis } from './aof.js';
import { measureDrain } from './drain.js';
import { measureLatency } from './latency.js';
import { printDrain, printLatency } from './report.js';
import { VotingLab } from './services.js';

export interface VotingSettings {
  /** Votes pre-filled into the stream for (b). */
  drainVotes: number;
  /** VOTE_BATCH_SIZE of the draining worker. */
  batchSize: number;
  /** VOTE_CONCURRENCY of the draining worker: batches it has in flight at once. */
  concurrency: number;
  /** When set, (b)'s worker writes a V8 CPU profile (`--cpu-prof`) into this directory. */
  cpuProfileDir?: string;
}

/** The seed's `ab -p posta -T application/x-www-form-urlencoded`, as wrk sends it. */
const formVote: WrkRequest = {
  method: 'POST',
  body: 'vote=a',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
};

const latency = { votesPerSecond: 1_000, seconds: 10 };

/** `settings` is read when the benchmark runs, after the command line filled it in. */
export function votingBenchmark(settings: Readonly<VotingSettings>): Benchmark {
  return {
    name: 'voting',
    description:
      'vote POST / vs node:http (wrk); one worker draining a pre-filled stream vs COPY; ' +
      'vote-to-result latency at 1,000 votes/s (real Redis and Postgres); vote against Redis ' +
      'with appendfsync everysec vs always',
    run: async (load) => {
      await assertWrkInstalled();
      const lab = await VotingLab.open();
      try {
        process.stdout.write(
          `voting: Redis ${lab.redisUrl}, Postgres ${lab.databaseUrl}; own key prefixes and ` +
            `schemas, removed afterwards\n\n(a) vote POST / (form vote=a, no cookie: a new ` +
            `voter and one XADD each) beside the baseline, same request\n`,
        );
        if (runsPart(load, 'a')) {
          const live = lab.namespace('post');
          const vote: Contender = {
            name: 'vote',
            start: () => lab.start('vote', live),
            request: formVote,
          };
          printReport(await compare([{ ...baseline, request: formVote }, vote], load), load);
          const appended = await lab.redis.xlen(`${live.prefix}votes`);
          process.stdout.write(
            `vote appended ${appended.toLocaleString('en-US')} stream entries\n`,
          );
          await lab.clearKeys(live);
        }
        if (runsPart(load, 'b')) {
          printDrain(
            await measureDrain(lab, {
              votes: settings.drainVotes,
              batchSize: settings.batchSize,
              concurrency: settings.concurrency,
              ...(settings.cpuProfileDir === undefined
                ? {}
                : { cpuProfileDir: settings.cpuProfileDir }),
            }),
          );
        }
        if (runsPart(load, 'c')) printLatency(await measureLatency(lab, latency));
        if (runsPart(load, 'd')) {
          process.stdout.write(
            `\n(d) vote POST / against a Redis of its own with the AOF on: appendfsync ` +
              `everysec beside always, both beside the baseline\n`,
          );
          const servers = [await startAofRedis('everysec'), await startAofRedis('always')];
          try {
            const live = lab.namespace('aof');
            const contenders: Contender[] = servers.map((redis) => ({
              name: `vote (appendfsync ${redis.appendfsync})`,
              start: () => lab.start('vote', live, { env: { REDIS_URL: redis.url } }),
              request: formVote,
            }));
            printReport(
              await compare([{ ...baseline, request: formVote }, ...contenders], load),
              load,
            );
          } finally {
            for (const redis of servers) await redis.stop();
          }
        }
      } finally {
        progress('removing the benchmark keys and schemas');
        await lab.close();
      }
    },
  };
}
