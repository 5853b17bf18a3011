/**
 * `agora up` embedded keeps what it acknowledged: counter hits and votes (queued in the broker's
 * stream, no worker yet) under load, the whole process SIGKILLed, started again on the same data
 * directory with the worker; then Ctrl-C and a third start, which warns of nothing. And a broker
 * log damaged in the middle stops the start in one line.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, expect, it } from 'vitest';

import { encodeRecord } from '../../src/platform/broker/memory-log.js';
import { PgliteSql } from '../../src/platform/sql/pglite.js';
import { testVoteSecret } from '../support/backends.js';
import {
  agoraCli,
  freePort,
  killAll,
  type ManagedProcess,
  startProcess,
  waitFor,
  waitForHttp,
} from '../support/processes.js';

const services = ['counter', 'vote', 'result', 'worker'] as const;

afterEach(() => killAll());

let dataDir = '';
const otherDirs: string[] = [];
afterAll(async () => {
  for (const directory of [dataDir, ...otherDirs]) {
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  }
});

/** Its own ports and data directory, no real backends: embedded, as `npm start` runs. */
async function stackEnv(): Promise<{ env: NodeJS.ProcessEnv; urls: Record<string, string> }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: 'json', AGORA_DATA_DIR: dataDir };
  delete env.REDIS_URL;
  delete env.DATABASE_URL;
  // Entries a killed worker held are taken over after a second, not the default's wait.
  env.VOTE_RECLAIM_IDLE_MS = '1000';
  // A secret of its own, so the vote service has no reason to warn.
  env.AGORA_VOTE_SECRET = testVoteSecret;
  const urls: Record<string, string> = {};
  for (const service of services) {
    const port = await freePort();
    env[`AGORA_${service.toUpperCase()}_PORT`] = String(port);
    urls[service] = `http://127.0.0.1:${port}`;
  }
  return { env, urls };
}

async function startStack(
  env: NodeJS.ProcessEnv,
  urls: Record<string, string>,
  only: readonly string[] = services,
) {
  const up = startProcess(process.execPath, [agoraCli, 'up', ...only], { env });
  await up.waitForOutput(/Agora is up/, 90_000);
  for (const service of only) {
    await waitForHttp(`${urls[service]}/readyz`, { status: 200, timeoutMs: 30_000 });
  }
  return up;
}

/** What the load was told succeeded: the counter values it saw, the voters it cast for. */
interface Acknowledged {
  hits: number[];
  voters: Map<string, 'a' | 'b'>;
}

/** Hits the counter and casts votes, 8 callers each, until `stop()`; failures are not acked. */
function startLoad(urls: Record<string, string>, acked: Acknowledged) {
  let running = true;
  const hit = async (): Promise<void> => {
    while (running) {
      try {
        const response = await fetch(`${urls.counter}/`, {
          headers: { accept: 'application/json' },
        });
        if (response.status === 200)
          acked.hits.push(((await response.json()) as { hits: number }).hits);
      } catch {
        // Refused or cut off by the kill: not acknowledged.
      }
    }
  };
  const vote = async (): Promise<void> => {
    while (running) {
      const choice = Math.random() < 0.5 ? 'a' : 'b';
      try {
        const response = await fetch(`${urls.vote}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ vote: choice }),
        });
        if (response.status === 202) {
          const body = (await response.json()) as { voter_id: string };
          acked.voters.set(body.voter_id, choice);
        }
      } catch {
        // As above.
      }
    }
  };
  const callers = [...Array.from({ length: 8 }, hit), ...Array.from({ length: 8 }, vote)];
  return {
    stop: async () => {
      running = false;
      await Promise.all(callers);
    },
  };
}

async function results(urls: Record<string, string>): Promise<{ total: number }> {
  const response = await fetch(`${urls.result}/api/results`);
  return (await response.json()) as { total: number };
}

async function hitOnce(urls: Record<string, string>): Promise<number> {
  const response = await fetch(`${urls.counter}/`, { headers: { accept: 'application/json' } });
  return ((await response.json()) as { hits: number }).hits;
}

function warnings(process: ManagedProcess): string[] {
  return `${process.stdout()}\n${process.stderr()}`
    .split('\n')
    .filter((line) => /"level":(40|50|60)/.test(line));
}

it('keeps every acknowledged hit and vote through a SIGKILL, and a Ctrl-C without warnings', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agora-restart-'));
  const { env, urls } = await stackEnv();
  const acked: Acknowledged = { hits: [], voters: new Map() };

  // No worker at first: every vote acknowledged before the kill is only in the broker's stream.
  const first = await startStack(env, urls, ['counter', 'vote', 'result']);
  const load = startLoad(urls, acked);
  await waitFor(() => acked.voters.size >= 300 && acked.hits.length >= 300, {
    timeoutMs: 60_000,
    message: '300 acknowledged hits and votes',
  });
  expect((await results(urls)).total).toBe(0);
  first.kill('SIGKILL');
  await first.exited;
  await load.stop();
  const lastHit = Math.max(...acked.hits);

  const second = await startStack(env, urls);
  expect(await hitOnce(urls)).toBeGreaterThan(lastHit);
  // The stream came back from the log, and the worker drains it.
  await waitFor(async () => (await results(urls)).total >= acked.voters.size, {
    timeoutMs: 60_000,
    message: 'every acknowledged vote counted',
  });
  second.kill('SIGINT');
  expect(await second.exited).toEqual({ code: 0, signal: null });

  const third = await startStack(env, urls);
  const afterStop = await hitOnce(urls);
  expect(afterStop).toBeGreaterThan(lastHit + 1);
  expect(warnings(third)).toEqual([]);
  third.kill('SIGINT');
  expect(await third.exited).toEqual({ code: 0, signal: null });
  expect(warnings(third)).toEqual([]);

  // Every acknowledged voter stored once, with its vote; the tally agrees with the rows.
  const sql = await PgliteSql.open({ dataDir, schema: 'public' });
  try {
    const rows = await sql.query<{ voter_id: string; vote: string }>(
      'SELECT voter_id, vote FROM votes WHERE voter_id = ANY($1)',
      [[...acked.voters.keys()]],
    );
    expect(rows.rows.length).toBe(acked.voters.size);
    for (const row of rows.rows) expect(row.vote).toBe(acked.voters.get(row.voter_id));
    const tally = await sql.query<{ total: string; stored: string }>(
      'SELECT (SELECT sum(votes) FROM vote_tally)::text AS total, count(*)::text AS stored FROM votes',
    );
    expect(tally.rows[0]?.total).toBe(tally.rows[0]?.stored);
  } finally {
    await sql.close();
  }
}, 300_000);

it('refuses to start on a broker log damaged in the middle, in one line naming file and offset', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'agora-corrupt-'));
  otherDirs.push(directory);
  const file = join(directory, 'broker', 'broker.log');
  const first = encodeRecord({ op: 'counter', key: 'hits', value: 1 });
  first[first.length - 2] = 0x20; // inside the JSON, so its checksum no longer matches
  await mkdir(join(directory, 'broker'));
  await writeFile(
    file,
    Buffer.concat([first, encodeRecord({ op: 'counter', key: 'hits', value: 2 })]),
  );

  const env: NodeJS.ProcessEnv = { ...process.env, AGORA_DATA_DIR: directory };
  delete env.REDIS_URL;
  env.AGORA_COUNTER_PORT = String(await freePort());
  const up = startProcess(process.execPath, [agoraCli, 'up', 'counter'], { env });
  expect(await up.exited).toEqual({ code: 1, signal: null });
  expect(up.stderr()).toBe(
    `agora: broker log ${file} is corrupt at byte 0 (checksum mismatch); nothing was changed\n`,
  );
});
