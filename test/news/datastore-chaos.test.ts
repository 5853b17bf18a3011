/**
 * News posts while Postgres crashes: an agent and two nodes as processes over the test's own
 * Postgres, a client posting in a loop (each post retried with its key until acknowledged);
 * `pg_ctl stop -m immediate` mid-loop, then a start. Meanwhile a post is refused readably
 * (`unavailable`) within its deadline; afterwards posting works again with nothing restarted,
 * and every acknowledged post is stored exactly once under the id it was acknowledged with.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { createAdmin } from '../../src/news/accounts.js';
import { NewsClient } from '../../src/news/client/client.js';
import { NewsError } from '../../src/news/protocol.js';
import { PgSql } from '../../src/platform/sql/index.js';
import { uniqueName } from '../support/backends.js';
import { type OwnPostgres, startOwnPostgres } from '../support/data-holders.js';
import { newsTestEnv, startNewsProcess, waitUntilServing } from '../support/news.js';
import { freePort, killAll, type ManagedProcess, waitFor } from '../support/processes.js';

const schema = uniqueName('news_ds');
const areas = ['n1', 'n2', 'n3'];
let postgres: OwnPostgres;
let sql: PgSql;
let agentAddress: string;
let token: string;
const processes: ManagedProcess[] = [];

beforeAll(async () => {
  postgres = await startOwnPostgres();
  sql = new PgSql({ url: postgres.url, schema });
  const env = { ...newsTestEnv(schema), DATABASE_URL: postgres.url };
  const agentPort = await freePort();
  agentAddress = `127.0.0.1:${agentPort}`;
  processes.push(await startNewsProcess('news-agent', agentPort, env));
  const nodes = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
  for (const node of nodes) {
    processes.push(await startNewsProcess('news-node', Number(node.split(':')[1]), env));
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
});

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

async function storedPosts(): Promise<number> {
  const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM news_items');
  return rows[0]?.n ?? 0;
}

it('stores every acknowledged post once when Postgres crashes mid-loop, refusing readably meanwhile', async () => {
  const stop = new AbortController();
  const loop = postInLoop(stop.signal);
  await waitFor(async () => (await storedPosts()) >= 30, {
    timeoutMs: 20_000,
    message: 'the loop to post some news',
  });

  await postgres.crash();
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
  for (const process of processes) expect(process.exitStatus()).toBeUndefined();
}, 90_000);
