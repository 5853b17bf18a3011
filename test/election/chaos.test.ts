/**
 * The election chaos test of issue 4: `agora load election` sends 50,000 ballots over all three
 * routes (gateway-grpc, gateway-redis, grpc-direct) while election-subscriber and election-grpc
 * are SIGKILLed and restarted, taking turns; the generator retries with the same ids. At the
 * end every acknowledged ballot is stored exactly once (the generator's own verification, and a
 * count here), the summary tables equal a fresh aggregate over `ballots`, and the stream has
 * nothing pending.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { ballotsStream, subscribersGroup } from '../../src/election/protocol.js';
import type { LoadReport } from '../../src/load/report.js';
import { testDatabaseUrl } from '../support/backends.js';
import {
  type ElectionIngest,
  type IngestService,
  startElectionIngest,
} from '../support/election-load-services.js';
import { killAll, startAgora, waitFor } from '../support/processes.js';
import { seededRandom } from '../support/random.js';

const ballots = 50_000;
const batch = 100;
const kills = 6;

let ingest: ElectionIngest;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agora-election-chaos-'));
  ingest = await startElectionIngest('electionchaos', {
    // Short, so the batch a killed subscriber held comes back within the test's time.
    ELECTION_SUBSCRIBER_RECLAIM_IDLE_MS: '1500',
    ELECTION_SUBSCRIBER_BATCH_SIZE: '250',
  });
}, 60_000);

afterAll(async () => {
  await killAll();
  await ingest.cleanUp();
});

async function storedCount(): Promise<number> {
  const { rows } = await ingest.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM ballots');
  return rows[0]?.n ?? 0;
}

/** The group's view of the stream (XINFO GROUPS): entries it has read, and not yet acked. */
async function groupProgress(): Promise<{ lag: number; pending: number }> {
  const groups = (await ingest.redis.call(
    'XINFO',
    'GROUPS',
    `${ingest.prefix}${ballotsStream}`,
  )) as unknown[][];
  for (const group of groups) {
    const info = new Map<string, unknown>();
    for (let i = 0; i < group.length; i += 2) info.set(String(group[i]), group[i + 1]);
    if (info.get('name') === subscribersGroup) {
      return { lag: Number(info.get('lag')), pending: Number(info.get('pending')) };
    }
  }
  return { lag: -1, pending: -1 };
}

/**
 * Entries pending for the subscriber process `pid`; consumer names are `<host>-<pid>-<hex>`, with
 * `/<loop>` after it when the process runs more than one loop.
 */
async function heldBy(pid: number): Promise<number> {
  const reply = (await ingest.redis.call(
    'XPENDING',
    `${ingest.prefix}${ballotsStream}`,
    subscribersGroup,
  )) as [number, string | null, string | null, [string, string][] | null];
  let held = 0;
  for (const [consumer, count] of reply[3] ?? []) {
    if (Number(/-(\d+)-[0-9a-f]+(?:\/\d+)?$/.exec(consumer)?.[1]) === pid) held += Number(count);
  }
  return held;
}

/** The rows of a query as sorted JSON lines, to compare a summary table with an aggregate. */
async function rowsOf(query: string): Promise<string[]> {
  const { rows } = await ingest.sql.query(query);
  return rows.map((row) => JSON.stringify(row)).sort();
}

it('stores every acknowledged ballot once, with exact summaries, while the subscriber and the gRPC server are killed', async () => {
  const reportPath = join(dir, 'report.json');
  const load = startAgora(
    [
      'load',
      'election',
      '--url',
      ingest.gatewayUrl,
      '--grpc-url',
      ingest.grpcAddress,
      '--database-url',
      testDatabaseUrl,
      '--db-schema',
      ingest.schema,
      '--users',
      '10',
      // Paced, so the run outlasts six restarts however fast this machine ingests.
      '--think-time',
      '400',
      '--total',
      String(ballots / batch),
      '--batch',
      String(batch),
      // Enough to outlast every restart: retries back off to 1 s each.
      '--retries',
      '60',
      '--timeout',
      '5s',
      '--settle-timeout',
      '40s',
      '--no-live',
      '--report',
      reportPath,
    ],
    {},
  );

  // Each service is killed as often as the other, in an order the printed seed replays.
  const random = seededRandom('election chaos');
  const victims = Array.from({ length: kills }, (_, kill): IngestService =>
    kill % 2 === 0 ? 'election-subscriber' : 'election-grpc',
  );
  for (let i = victims.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [victims[i], victims[j]] = [victims[j] ?? 'election-grpc', victims[i] ?? 'election-grpc'];
  }
  let heldAtKill = 0;
  for (let kill = 0; kill < kills; kill++) {
    // Spread the kills over the run: each once a further slice of the ballots is stored.
    const due = Math.floor(((kill + 1) * ballots) / (kills + 2));
    await waitFor(async () => (await storedCount()) >= due || load.exitStatus() !== undefined, {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: () => `${due} ballots stored; the load said:\n${load.output().slice(-2_000)}`,
    });
    expect(load.exitStatus(), 'the load ended before the kills were done').toBeUndefined();
    const victim = victims[kill] ?? 'election-grpc';
    if (victim === 'election-subscriber') {
      // Kill it while it holds a batch it has not acked, if that happens within a few seconds.
      const pid = ingest.processes.get(victim)?.pid ?? 0;
      heldAtKill += await waitFor(() => heldBy(pid), { timeoutMs: 5_000, intervalMs: 10 }).catch(
        () => 0,
      );
    }
    await ingest.restart(victim);
  }

  const exit = await load.exited;
  const output = load.output();
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as LoadReport;
  expect(exit.code, output).toBe(0);
  // Every request was answered in the end, on every route, despite the kills.
  expect(report.acknowledged).toBe(ballots / batch);
  expect(report.total.failed, output).toBe(0);
  for (const route of report.routes) expect(route.requests, route.route).toBeGreaterThan(0);
  expect(report.verification).toMatchObject({ ok: true, checked: ballots, differenceCount: 0 });
  // The kills made some requests wait for a retry.
  const byRoute = (report.verification?.expected as { acknowledgedByRoute: object })
    .acknowledgedByRoute as Record<string, { retries: number }>;
  expect(Object.values(byRoute).reduce((sum, route) => sum + route.retries, 0)).toBeGreaterThan(0);

  // A killed subscriber held unacked entries, which its successor had to reclaim.
  expect(heldAtKill).toBeGreaterThan(0);

  expect(await storedCount()).toBe(ballots);
  expect(
    await waitFor(
      async () => {
        const progress = await groupProgress();
        return progress.lag === 0 && progress.pending === 0 && progress;
      },
      { timeoutMs: 20_000, message: 'the subscribers to ack every entry' },
    ),
  ).toEqual({ lag: 0, pending: 0 });

  expect(
    await rowsOf('SELECT papeleta, departamento, partido, votes::int FROM party_by_department'),
  ).toEqual(
    await rowsOf(`SELECT papeleta, departamento, partido, count(*)::int AS votes
      FROM ballots GROUP BY 1, 2, 3`),
  );
  expect(
    await rowsOf(
      'SELECT papeleta, departamento, municipio, partido, votes::int FROM party_by_municipality',
    ),
  ).toEqual(
    await rowsOf(`SELECT papeleta, departamento, municipio, partido, count(*)::int AS votes
      FROM ballots GROUP BY 1, 2, 3, 4`),
  );
  expect(
    await rowsOf('SELECT papeleta, departamento, municipio, sede, votes::int FROM votes_by_sede'),
  ).toEqual(
    await rowsOf(`SELECT papeleta, departamento, municipio, sede, count(*)::int AS votes
      FROM ballots GROUP BY 1, 2, 3, 4`),
  );
  expect(
    await rowsOf('SELECT route, sum(ballots)::int AS ballots FROM ballots_by_route GROUP BY 1'),
  ).toEqual(await rowsOf('SELECT route, count(*)::int AS ballots FROM ballots GROUP BY 1'));
}, 90_000);
