/**
 * Wrong bytes on the wire: non-JSON, unknown operations, missing fields, an old version,
 * frames over the limit, a client that says nothing, a client that hangs up mid-request.
 * Each gets its error (or a close), and the server answers the next client normally.
 */
import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseAddress } from '../../src/news/address.js';
import { exchange } from '../../src/news/frame-client.js';
import { maxFrameBytes, type ResponseFrame } from '../../src/news/protocol.js';
import { uniqueName } from '../support/backends.js';
import { dropSchema, type NewsCluster, startNewsCluster } from '../support/news.js';

const schema = uniqueName('news_bad');
let cluster: NewsCluster;
let token: string;

beforeAll(async () => {
  cluster = await startNewsCluster(schema, 1, { NEWS_IDLE_TIMEOUT_MS: '300' });
  token = (await cluster.client().register('ana', 'ana-password')).token;
});

afterAll(async () => {
  await cluster.stop();
  await dropSchema(schema);
});

function codeOf(frame: ResponseFrame): string {
  return frame.ok ? 'ok' : frame.error.code;
}

/** The server still works: a ping on each, and a real operation on the agent. */
async function stillServing(): Promise<void> {
  for (const address of [cluster.agent, ...cluster.nodes]) {
    expect(codeOf(await exchange(address, '{"v":1,"id":1,"op":"ping"}\n'))).toBe('ok');
  }
  expect(
    codeOf(
      await exchange(cluster.agent, `${JSON.stringify({ v: 1, id: 2, op: 'areas', token })}\n`),
    ),
  ).toBe('ok');
}

const cases: [string, string, string][] = [
  ['a line that is not JSON', 'hello there\n', 'bad_json'],
  ['a JSON value that is not an object', '[1,2,3]\n', 'bad_frame'],
  ['a frame without id', '{"v":1,"op":"ping"}\n', 'bad_frame'],
  ['a frame without op', '{"v":1,"id":"a"}\n', 'bad_frame'],
  ['another protocol version', '{"v":2,"id":"a","op":"ping"}\n', 'unsupported_version'],
  ['an unknown operation', '{"v":1,"id":"a","op":"drop_everything"}\n', 'unknown_op'],
  ['login without a password', '{"v":1,"id":"a","op":"login","name":"ana"}\n', 'invalid_request'],
  [
    'register with a number as name',
    '{"v":1,"id":"a","op":"register","name":5,"password":"longenough"}\n',
    'invalid_request',
  ],
  ['a token that is not a string', '{"v":1,"id":"a","op":"areas","token":7}\n', 'bad_frame'],
];

describe('bad frames to the agent', () => {
  it.each(cases)('%s is refused with its code', async (_name, payload, code) => {
    const answer = await exchange(cluster.agent, payload);
    expect(codeOf(answer)).toBe(code);
    await stillServing();
  });

  it('echoes the request id in an error when it could read one', async () => {
    const answer = await exchange(cluster.agent, '{"v":1,"id":"req-9","op":"nope"}\n');
    expect(answer.id).toBe('req-9');
  });
});

describe('bad frames to a node', () => {
  it('refuses missing and malformed fields', async () => {
    const node = cluster.nodes[0] ?? '';
    const send = (frame: object) =>
      exchange(node, `${JSON.stringify({ v: 1, id: 1, token, ...frame })}\n`);
    expect(codeOf(await send({ op: 'news' }))).toBe('invalid_request');
    expect(codeOf(await send({ op: 'post', area: 'x' }))).toBe('invalid_request');
    expect(codeOf(await send({ op: 'delete', news: 'abc' }))).toBe('invalid_request');
    expect(codeOf(await send({ op: 'news', area: 'x', unread: 'yes' }))).toBe('invalid_request');
    expect(codeOf(await send({ op: 'post', area: 'x', text: 'a'.repeat(4_001) }))).toBe(
      'invalid_request',
    );
    expect(codeOf(await send({ op: 'route', area: 'x' }))).toBe('unknown_op');
    await stillServing();
  });
});

describe('misbehaving connections', () => {
  it('a frame over the limit gets frame_too_large and a close, without waiting for its end', async () => {
    const answer = await exchange(cluster.agent, 'x'.repeat(maxFrameBytes + 10));
    expect(codeOf(answer)).toBe('frame_too_large');
    const withNewline = await exchange(cluster.nodes[0] ?? '', `${'y'.repeat(maxFrameBytes)}\n`);
    expect(codeOf(withNewline)).toBe('frame_too_large');
    await stillServing();
  });

  it('a client that connects and sends nothing is told idle_timeout and closed', async () => {
    const answer = await exchange(cluster.agent, '', 5_000);
    expect(codeOf(answer)).toBe('idle_timeout');
    await stillServing();
  });

  it('a client that trickles bytes and never closes its side is still disconnected', async () => {
    const { host, port } = parseAddress(cluster.agent);
    // allowHalfOpen: the client keeps its side open after the server's answer, and its bytes
    // keep coming before and after it; only the server closing the socket ends this.
    const socket = connect({ host, port, allowHalfOpen: true });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('end', () => undefined);
    // Writing to a socket the server has closed is answered by a reset: expected here.
    socket.on('error', () => undefined);
    const trickle = setInterval(() => socket.write('{'), 100);
    await new Promise<void>((resolve) =>
      socket.once('close', () => {
        resolve();
      }),
    );
    clearInterval(trickle);
    const answer = JSON.parse(Buffer.concat(received).toString()) as ResponseFrame;
    expect(codeOf(answer)).toBe('idle_timeout');
    await stillServing();
  });

  it('a client that hangs up mid-frame, or right after sending, does not disturb the server', async () => {
    for (const payload of [
      '{"v":1,"id":1,"op":"lo',
      `${JSON.stringify({ v: 1, id: 1, op: 'areas', token })}\n`,
    ]) {
      const { host, port } = parseAddress(cluster.agent);
      await new Promise<void>((resolve) => {
        const socket = connect({ host, port }, () => {
          socket.write(payload, () => {
            socket.destroy();
            resolve();
          });
        });
        socket.on('error', () => {
          resolve();
        });
      });
    }
    await stillServing();
  });

  it('an HTTP request on a TCP port is refused as a malformed frame (HTTP is on the admin port)', async () => {
    for (const address of [cluster.agent, ...cluster.nodes]) {
      const answer = await exchange(address, 'GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(answer).toMatchObject({ ok: false });
    }
    await stillServing();
  });
  it('only the first line of a connection is answered', async () => {
    const answer = await exchange(
      cluster.agent,
      '{"v":1,"id":"first","op":"ping"}\n{"v":1,"id":"second","op":"ping"}\n',
    );
    expect(answer).toMatchObject({ id: 'first', ok: true });
  });
});
