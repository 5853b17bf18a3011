/**
 * News posts while Postgres crashes: an agent and two nodes as processes over the test's own
 * Postgres, a client posting in a loop (each post retried with its key until acknowledged) and
 * `agora load news` beside it; `pg_ctl stop -m immediate` mid-loop, then a start. Meanwhile a
 * post is refused readably (`unavailable`) within its deadline and every /readyz says 503;
 * afterwards posting works again with nothing restarted, every acknowledged post of the loop is
 * stored exactly once under the id it was acknowledged with, and the load's verification (the
 * same, with unconfirmed posts stored once or not at all) exits 0.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { createAdmin } from '../../src/news/accounts.js';
import { NewsClient } from '../../src/news/client/client.js';
import { NewsError } from '../../src/news/protocol.js';
import { PgSql } from '../../src/platform/sql/index.js';
import { uniqueName } from '../support/backends.js';
import { type OwnPostgres, startOwnPostgres } from '../support/data-holders.js';
import { startLoadRun, throughOutage } from '../support/load-run.js';
import { newsTestEnv, startNewsProcess, waitUntilServing } from '../support/news.js';
import { freePort, killAll, type ManagedProcess, waitFor } from '../support/processes.js';

const schema = uniqueName('news_ds');
const areas = ['n1', 'n2', 'n3'];
let postgres: OwnPostgres;
let sql: PgSql;
let agentAddress: string;
let token: string;
let dir = '';
const processes: ManagedProcess[] = [];
/** The agent's and each node's /readyz, on their admin ports. */
const readyz: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agora-news-datastore-'));
  postgres = await startOwnPostgres();
  sql = new PgSql({ url: postgres.url, schema });
  const env = { ...newsTestEnv(schema), DATABASE_URL: postgres.url };
  const agentPort = await freePort();
  agentAddress = `127.0.0.1:${agentPort}`;
  const adminPort = async () => {
    const port = await freePort();
    readyz.push(`http://127.0.0.1:${port}/readyz`);
    return port;
  };
  processes.push(await startNewsProcess('news-agent', agentPort, env, await adminPort()));
  const nodes = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
  for (const node of nodes) {
    processes.push(
      await startNewsProcess('news-node', Number(node.split(':')[1]), env, await adminPort()),
    );
  }
  await Promise.all([agentAddress, ...nodes].map((address) => waitUntilServing(address, 30_000)));
  await createAdmin(sql, 'root', 'root-password');
  const admin = new NewsClient({ agent: agentAddress, retryForMs: 10_000 });
  await admin.login('root', 'root-password');
  for (const area of areas) await admin.addArea(area);
  const user = new NewsClient({ agent: agentAddress, retryForMs: 10_000 });
  token = (await user.register('poster', 'poster-password')).token;
  for (const area of areas) await user.subscribe(area);
}, 90_000);

afterAll(async () => {
  await sql.close();
  await killAll();
  await postgres.remove();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

/** `agora load news` through the agent; `finished` has its exit, report and output. */
function startLoad(seconds: number) {
  return startLoadRun(
    dir,
    [
      'news',
      '--url',
      `tcp://${agentAddress}`,
      '--areas',
      areas.join(','),
      '--readers',
      '2',
      '--users',
      '4',
      '--rate',
      '20',
      '--duration',
      `${seconds}s`,
      // Retries through the agent included, a post ends within the 3 s.
      ...throughOutage,
    ],
    { env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
}

/** Polls every /readyz until each says `status`. */
async function everyReadyzIs(status: number, what: string): Promise<void> {
  await waitFor(
    async () => {
      const answers = await Promise.all(
        readyz.map(async (url) => {
          const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
          await response.body?.cancel();
          return response.status;
        }),
      );
      return answers.every((answer) => answer === status);
    },
    { timeoutMs: 20_000, intervalMs: 100, message: what },
  );
}

/** Posts until stopped, each post retried with its own key until acknowledged; key -> id. */
function postInLoop(signal: AbortSignal): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  const poster = new NewsClient({
    agent: agentAddress,
    token,
    retryForMs: 2_000,
    timeoutMs: 3_000,
  });
  const stopped = () => signal.aborted;
  return (async () => {
    for (let i = 0; !stopped(); i++) {
      const key = `post-${i}`;
      // Not given up on: a post the crash refused is sent again, same key, until it is stored.
      for (;;) {
        try {
          const item = await poster.post(areas[i % areas.length] ?? 'n1', `post ${i}`, key);
          acked.set(key, item.id);
          break;
        } catch {
          if (stopped()) break;
        }
      }
    }
    return acked;
  })();
}

/** Posts by the load's readers (named `load-<run>-<n>`). */
async function loadPosts(): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM news_items i JOIN news_users u ON u.id = i.author_id
     WHERE u.name LIKE 'load-%'`,
  );
  return rows[0]?.n ?? 0;
}

async function storedPosts(): Promise<number> {
  const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM news_items');
  return rows[0]?.n ?? 0;
}

it('stores every acknowledged post once when Postgres crashes mid-loop, refusing readably meanwhile', async () => {
  const stop = new AbortController();
  const loop = postInLoop(stop.signal);
  const load = startLoad(25);
  await waitFor(async () => (await storedPosts()) >= 30, {
    timeoutMs: 20_000,
    message: 'the loop to post some news',
  });
  // The load registers its readers first (password hashing), then posts.
  await waitFor(async () => (await loadPosts()) >= 10, {
    timeoutMs: 30_000,
    message: 'the load to post some news',
  });
  expect(load.run.exitStatus(), 'the load ended before the crash').toBeUndefined();

  await postgres.crash();
  await everyReadyzIs(503, 'the agent and both nodes to say Postgres is away');
  // A post now: refused within its deadline, with a code and a message, never left hanging.
  const probe = new NewsClient({ agent: agentAddress, token, retryForMs: 0, timeoutMs: 5_000 });
  const refused = await waitFor(
    async () => {
      try {
        await probe.post('n1', 'while down');
        return undefined;
      } catch (error) {
        return error instanceof NewsError && error.code === 'unavailable' && error;
      }
    },
    { timeoutMs: 20_000, message: 'a post to be refused as unavailable while Postgres is away' },
  );
  expect(refused.message).toMatch(/database|unavailable|postgres/i);

  await postgres.start();
  await everyReadyzIs(200, 'the agent and both nodes to be ready again without a restart');
  const before = await waitFor(() => storedPosts().catch(() => 0), {
    timeoutMs: 30_000,
    message: 'Postgres to answer again',
  });
  await waitFor(async () => (await storedPosts()) > before + 10, {
    timeoutMs: 30_000,
    message: 'posting to work again without a restart',
  });
  stop.abort();
  const acked = await loop;

  const { rows } = await sql.query<{ client_key: string; id: string; copies: number }>(
    `SELECT client_key, min(id)::text AS id, count(*)::int AS copies FROM news_items
     WHERE client_key LIKE 'post-%' GROUP BY client_key`,
  );
  const stored = new Map(rows.map((row) => [row.client_key, row]));
  expect(acked.size).toBeGreaterThan(40);
  for (const [key, id] of acked) {
    expect(stored.get(key), key).toEqual({ client_key: key, id, copies: 1 });
  }

  const outcome = await load.finished();
  expect(outcome.code, outcome.output).toBe(0);
  expect(outcome.report.verification, outcome.output).toMatchObject({ ok: true });
  expect(outcome.report.acknowledged).toBeGreaterThan(0);
  expect(outcome.report.abandoned).toBe(0);
  for (const process of processes) expect(process.exitStatus()).toBeUndefined();
}, 120_000);
