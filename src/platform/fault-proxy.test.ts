import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { type FaultProxy,startFaultProxy } from './fault-proxy.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An echo server standing in for a backend. */
async function echoServer(): Promise<{ port: number; server: Server; accepted: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  );
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    server,
    accepted: () => accepted,
  };
}

async function proxyToEcho(): Promise<FaultProxy & { upstreams: () => number }> {
  const echo = await echoServer();
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echo.port } });
  closers.push(() => proxy.close());
  return Object.assign(proxy, { upstreams: echo.accepted });
}

/** A client that collects what it reads and how it ended. */
async function client(proxy: FaultProxy) {
  const socket = connect(proxy.port, proxy.host);
  let received = '';
  let error: NodeJS.ErrnoException | undefined;
  let closed = false;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString();
  });
  socket.on('error', (cause: NodeJS.ErrnoException) => {
    error = cause;
  });
  socket.on('close', () => {
    closed = true;
  });
  await once(socket, 'connect');
  closers.push(() => {
    socket.destroy();
    return Promise.resolve();
  });
  return {
    socket,
    received: () => received,
    error: () => error,
    closed: () => closed,
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('the fault proxy', () => {
  it('passes bytes both ways and counts its connections', async () => {
    const proxy = await proxyToEcho();
    const a = await client(proxy);
    a.socket.write('hello');
    await until(() => a.received() === 'hello', 'the echo');
    expect(proxy.connections).toBe(1);
    expect(proxy.accepted).toBe(1);
    a.socket.destroy();
    await until(() => proxy.connections === 0, 'the relay to close');
  });

  it('points a URL at itself', async () => {
    const proxy = await proxyToEcho();
    expect(proxy.url('postgres://postgres@db.example:5432/test?sslmode=disable')).toBe(
      `postgres://postgres@127.0.0.1:${proxy.port}/test?sslmode=disable`,
    );
  });

  it('delays bytes by the latency in force, keeping their order when it changes', async () => {
    const proxy = await proxyToEcho();
    const a = await client(proxy);
    proxy.setFault({ kind: 'latency', ms: 200 });
    const sent = Date.now();
    a.socket.write('one,');
    await until(() => proxy.bytesFromClients === 4, 'the first chunk to reach the proxy');
    proxy.setFault({ kind: 'latency', ms: 0 });
    a.socket.write('two');
    await until(() => a.received() === 'one,two', 'both chunks');
    expect(Date.now() - sent).toBeGreaterThanOrEqual(199);
    expect(() => {
      proxy.setFault({ kind: 'latency', ms: -1 });
    }).toThrow(/latency/);
  });

  it('resets live connections, and new ones while the fault lasts', async () => {
    const proxy = await proxyToEcho();
    const live = await client(proxy);
    proxy.setFault({ kind: 'reset' });
    await until(() => live.closed(), 'the live connection to be reset');
    expect(live.error()?.code).toBe('ECONNRESET');
    expect(proxy.connections).toBe(0);

    const late = connect(proxy.port, proxy.host);
    const [error] = (await once(late, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNRESET');

    proxy.setFault({ kind: 'pass' });
    const after = await client(proxy);
    after.socket.write('back');
    await until(() => after.received() === 'back', 'the echo once passing again');
  });

  it('holds bytes in a blackhole and delivers them when it lifts', async () => {
    const proxy = await proxyToEcho();
    const live = await client(proxy);
    proxy.setFault({ kind: 'blackhole' });
    live.socket.write('held');
    const fresh = await client(proxy);
    fresh.socket.write('new');
    // Both were accepted; the new one never reached the backend.
    await until(() => proxy.connections === 2, 'both connections to be accepted');
    expect(proxy.upstreams()).toBe(1);
    expect([live.closed(), fresh.closed()]).toEqual([false, false]);
    proxy.setFault({ kind: 'pass' });
    await until(() => live.received() === 'held' && fresh.received() === 'new', 'the held bytes');
  });

  it('cuts for a while, then restores the fault it replaced', async () => {
    const proxy = await proxyToEcho();
    proxy.setFault({ kind: 'latency', ms: 5 });
    const cut = proxy.faultFor(100);
    expect(proxy.fault).toEqual({ kind: 'reset' });
    await cut;
    expect(proxy.fault).toEqual({ kind: 'latency', ms: 5 });

    // A fault set meanwhile wins over the restore, and the wait still ends.
    const blackhole = proxy.faultFor(10_000, { kind: 'blackhole' });
    proxy.setFault({ kind: 'pass' });
    await blackhole;
    expect(proxy.fault).toEqual({ kind: 'pass' });
  });

  it('resets a client whose backend refuses', async () => {
    const echo = await echoServer();
    await new Promise<void>((resolve) =>
      echo.server.close(() => {
        resolve();
      }),
    );
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echo.port } });
    closers.push(() => proxy.close());
    const a = await client(proxy);
    await until(() => a.closed(), 'the client to be closed');
    expect(proxy.connections).toBe(0);
  });
});
