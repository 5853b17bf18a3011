/**
 * The result service as a process: the tally as JSON and page, pushed live over SSE when the
 * worker's notification arrives, and a readable 503 (never "relation does not exist") while
 * the database is not there yet.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RedisBroker } from '../../src/platform/broker/redis.js';
import { talliesChannel } from '../../src/voting/protocol.js';
import type { Results } from '../../src/voting/results.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from '../support/backends.js';
import { agoraCli, freePort, killAll, startProcess, waitForHttp } from '../support/processes.js';

const prefix = `${uniqueName('result')}:`;
const schema = uniqueName('result');
const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
const db = new pg.Client({ connectionString: testDatabaseUrl });

async function startResult(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  startProcess(process.execPath, [agoraCli, 'run', 'result', '--port', String(port)], {
    env: { ...process.env, AGORA_REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', ...env },
  });
  return `http://127.0.0.1:${port}`;
}

/** Reads server-sent `results` events from the stream until one satisfies `until`. */
async function nextResults(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  until: (results: Results) => boolean,
): Promise<Results> {
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the event stream ended');
    buffered += decoder.decode(value, { stream: true });
    for (const match of buffered.matchAll(/event: results\ndata: (.*)\n\n/g)) {
      const results = JSON.parse(match[1] ?? '') as Results;
      if (until(results)) return results;
    }
  }
}

beforeAll(async () => {
  await db.connect();
});

afterAll(async () => {
  await killAll();
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db.end();
  await broker.close();
});

describe('the result service', () => {
  it('serves the tally and pushes a change to the open page without reload', async () => {
    const base = await startResult({
      REDIS_URL: testRedisUrl,
      DATABASE_URL: testDatabaseUrl,
      AGORA_DB_SCHEMA: schema,
    });
    await waitForHttp(`${base}/readyz`, { status: 200, timeoutMs: 20_000 });
    const page = await fetch(base);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');

    expect(await (await fetch(`${base}/api/results`)).json()).toEqual({
      options: [
        { option: 'a', label: 'Cats', votes: 0, percent: 0 },
        { option: 'b', label: 'Dogs', votes: 0, percent: 0 },
      ],
      total: 0,
      totalText: 'no votes yet',
    });
    // The verification route takes no input: anything else is refused, not ignored.
    expect(await (await fetch(`${base}/api/verify/store`)).json()).toEqual({ store: 'pg' });
    const query = await fetch(`${base}/api/verify/store?store=pglite`);
    expect(query.status).toBe(400);
    expect(((await query.json()) as { error: { message: string } }).error.message).toMatch(
      /unknown field "store"/,
    );
    expect((await fetch(`${base}/api/verify/store`, { method: 'POST' })).status).toBe(404);
    const empty = await (await fetch(base)).text();
    expect(empty).toContain('No votes yet');
    expect(empty).not.toMatch(/>50%</);

    const stream = await fetch(`${base}/api/stream`);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    await nextResults(reader, (results) => results.total === 0);

    await db.query(`UPDATE ${schema}.vote_tally SET votes = 1 WHERE option = 'a'`);
    await broker.publish(talliesChannel, '{}');
    const pushed = await nextResults(reader, (results) => results.total === 1);
    expect(pushed.totalText).toBe('1 vote');
    expect(pushed.options[0]).toMatchObject({ votes: 1, percent: 100 });
    await reader.cancel();
  });
});
