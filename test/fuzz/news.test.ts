/**
 * Property-based fuzzing of the news protocol: generated frames (every op of the agent and
 * of a node, with fields of any JSON type, hostile text, forged and genuine tokens) and raw
 * lines that are no JSON. Each gets one answer frame, ok or an error code other than
 * `internal`, the server keeps serving, and a refused frame stored nothing. Seeded and bounded.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { agentOps } from '../../src/news/agent/ops.js';
import { exchange } from '../../src/news/frame-client.js';
import { nodeOps } from '../../src/news/node/ops.js';
import { uniqueName } from '../support/backends.js';
import { dropSchema, type NewsCluster, startNewsCluster } from '../support/news.js';
import { anyJson, fuzzParameters, hostileText, storesDigest } from './support.js';

const schema = uniqueName('fuzz_news');
let cluster: NewsCluster;
let token: string;

beforeAll(async () => {
  cluster = await startNewsCluster(schema, 1);
  const user = cluster.client();
  token = (await user.register('fuzzer', 'fuzzer-password')).token;
});

afterAll(async () => {
  await cluster.stop();
  await dropSchema(schema);
});

/** The nodes' heartbeats change this table on their own. */
const heartbeats = ['news_nodes'];
const fieldNames = ['name', 'password', 'area', 'text', 'news', 'after', 'unread', 'key', 'failed'];

function frames(ops: readonly string[]) {
  return fc
    .record(
      {
        v: fc.oneof(fc.constant(1), anyJson),
        id: fc.oneof(fc.integer(), hostileText, anyJson),
        op: fc.oneof(fc.constantFrom(...ops), hostileText),
        token: fc.oneof(
          fc.constant(token),
          hostileText,
          fc.constant(`${token.slice(0, -2)}xx`),
          anyJson,
        ),
        fields: fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), hostileText), anyJson, {
          maxKeys: 5,
        }),
      },
      { requiredKeys: ['op'] },
    )
    .map(({ fields, ...frame }) => JSON.stringify({ ...fields, ...frame }));
}

const lines = (ops: readonly string[]) =>
  fc.oneof(
    frames(ops),
    hostileText.map((text) => text.replace(/\n/g, ' ')),
  );

async function fuzz(address: () => string, ops: readonly string[], label: string) {
  await fc.assert(
    fc.asyncProperty(lines(ops), async (line) => {
      const before = await storesDigest([{ sql: cluster.sql }], [], heartbeats);
      const answer = await exchange(address(), `${line}\n`);
      if (!answer.ok) {
        expect(answer.error.code).not.toBe('internal');
        expect(await storesDigest([{ sql: cluster.sql }], [], heartbeats)).toBe(before);
      }
    }),
    fuzzParameters(label, 150),
  );
}

it('the agent answers every generated frame without an internal error', async () => {
  await fuzz(() => cluster.agent, agentOps, 'fuzz news agent');
  expect((await cluster.client().login('fuzzer', 'fuzzer-password')).user.name).toBe('fuzzer');
});

it('a node answers every generated frame without an internal error', async () => {
  await fuzz(() => cluster.nodes[0] ?? '', nodeOps, 'fuzz news node');
  expect(await exchange(cluster.nodes[0] ?? '', '{"v":1,"id":1,"op":"ping"}\n')).toMatchObject({
    ok: true,
  });
});
