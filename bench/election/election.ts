/**
 * The election benchmark of issue 4, in one run against real Redis and Postgres: (a) ingest
 * ballots/s and p99 per route beside the bare node:http baseline; (b) the subscriber draining
 * the `ballots` stream beside COPY of the same rows; (c) dashboard query p99 with 1,000,000
 * ballots stored. (b) and (c) are the ingest's and the dashboard's own measurements.
 */
import { type Benchmark, runsPart } from '../support/benchmark.js';
import { formatElectionDrain, measureElectionDrain } from './drain.js';
import { measureIngest } from './ingest.js';
import { formatDashboardQueries, measureDashboardQueries } from './queries.js';

/** Ballots per request in (a)'s batched part, and its concurrent users. */
const ingest = { batch: 100, users: 8 };
/** (b): ballots pre-filled in the stream; (c): ballots stored before the queries are timed. */
const drainBallots = 200_000;
const queryBallots = 1_000_000;

export const electionBenchmark: Benchmark = {
  name: 'election',
  description:
    'ingest per route (gateway-grpc, gateway-redis, grpc-direct CastMany) vs node:http; ' +
    'subscriber drain vs COPY; dashboard query p99 at 1,000,000 ballots (real Redis and Postgres)',
  run: async (load) => {
    if (runsPart(load, 'a')) await measureIngest(load, ingest);
    if (runsPart(load, 'b')) {
      process.stdout.write(
        `\nelection (b) one election-subscriber draining ${drainBallots.toLocaleString('en-US')} ` +
          `pre-filled stream entries, beside COPY of the same rows\n`,
      );
      process.stdout.write(
        formatElectionDrain(await measureElectionDrain({ ballots: drainBallots })),
      );
    }
    if (runsPart(load, 'c')) {
      process.stdout.write(`\nelection (c) dashboard queries through election-api\n`);
      process.stdout.write(
        `${formatDashboardQueries(await measureDashboardQueries({ ballots: queryBallots }))}\n`,
      );
    }
  },
};
