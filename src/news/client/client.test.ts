import { createServer, type Server } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { NewsError } from '../protocol.js';
import { NewsClient } from './client.js';

const servers: Server[] = [];

/** A one-line NDJSON server on loopback answering each request with `answer(op)`. */
async function fakeServer(answer: (op: string) => unknown): Promise<string> {
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (!received.includes('\n')) return;
      const request = JSON.parse(received) as { id: number; op: string };
      socket.end(
        `${JSON.stringify({ v: 1, id: request.id, ok: true, result: answer(request.op) })}\n`,
      );
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `127.0.0.1:${address.port}`;
}

/** An address nothing listens on: a server started and closed. */
async function deadAddress(): Promise<string> {
  const address = await fakeServer(() => null);
  await new Promise((resolve) => servers.pop()?.close(resolve));
  return address;
}

const login = { token: 't', user: { id: 1, name: 'ana', admin: false }, expiresAt: 0 };

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((r) => server.close(r))));
});

describe('NewsClient with several agents', () => {
  it('logs in through the next agent when the first does not answer, and keeps to it', async () => {
    const dead = await deadAddress();
    const live = await fakeServer(() => login);
    const client = new NewsClient({ agent: dead, moreAgents: [live], timeoutMs: 1_000 });
    expect((await client.login('ana', 'secret-password')).token).toBe('t');
    expect(client.agent).toBe(live);
    expect((await client.whoami()) as unknown).toEqual(login);
  });

  it('does not register through another agent: the first may have registered the name', async () => {
    const dead = await deadAddress();
    const live = await fakeServer(() => login);
    const client = new NewsClient({ agent: dead, moreAgents: [live], timeoutMs: 1_000 });
    await expect(client.register('ana', 'secret-password')).rejects.toBeInstanceOf(NewsError);
    expect(client.agent).toBe(dead);
  });
});

describe('NewsClient reach', () => {
  it('reaches a node through the address reach maps its advertised one to', async () => {
    const node = await fakeServer(() => ({ subscribed: true, changed: true }));
    const agent = await fakeServer(() => ({ area: 'science', node: '10.9.8.7:8005' }));
    const client = new NewsClient({
      agent,
      token: 't',
      reach: (advertised) => (advertised === '10.9.8.7:8005' ? node : advertised),
    });
    expect(await client.subscribe('science')).toEqual({ subscribed: true, changed: true });
  });
});
