/**
 * Every HTTP port keeps its limits: a client that trickles its body is cut at the request
 * timeout, connections past the caps are closed, and a normal client is served meanwhile.
 */
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { Readiness } from '../../src/platform/health.js';
import { defaultHttpLimits, type HttpLimits } from '../../src/platform/http/limits.js';
import { createHttpServer, type HttpServer, listen } from '../../src/platform/http/server.js';
import { createLogger } from '../../src/platform/logger.js';
import { createMetricsRegistry } from '../../src/platform/metrics.js';
import { type Attacker, openRaw, trickle } from '../support/abuse.js';
import { waitFor } from '../support/processes.js';

async function serve(httpLimits: Partial<HttpLimits>): Promise<{ app: HttpServer; url: URL }> {
  const app = await createHttpServer({
    name: 'abuse',
    version: '0',
    logger: createLogger({ level: 'silent' }),
    metrics: createMetricsRegistry('abuse'),
    readiness: new Readiness(),
    httpLimits: { ...defaultHttpLimits, ...httpLimits },
  });
  app.post('/echo', (request) => ({ got: request.body }));
  return { app, url: new URL(await listen(app, '127.0.0.1', 0)) };
}

const attackers: Attacker[] = [];
const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  for (const attacker of attackers.splice(0)) attacker.socket.destroy();
});

describe('an HTTP port under a slow-body attack', () => {
  let app: HttpServer;
  let url: URL;
  beforeAll(async () => {
    ({ app, url } = await serve({ requestTimeoutMs: 1_000, headersTimeoutMs: 1_000 }));
  });
  afterAll(() => app.close());

  it('cuts a client that sends one body byte at a time and serves the others', async () => {
    const slow = openRaw(Number(url.port));
    attackers.push(slow);
    slow.socket.write(
      'POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n',
    );
    stops.push(trickle(slow, 200, ' '));

    // Served while the attack is open.
    const response = await fetch(new URL('/echo', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ got: { a: 1 } });

    await waitFor(() => slow.closed(), { message: 'the slow client to be cut' });
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('cuts a client that never finishes its headers', async () => {
    const slow = openRaw(Number(url.port));
    attackers.push(slow);
    slow.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n');
    stops.push(trickle(slow, 200, 'x'));
    expect((await fetch(new URL('/healthz', url))).status).toBe(200);
    await waitFor(() => slow.closed(), { message: 'the slow client to be cut' });
  });
});

describe('an HTTP port past its connection caps', () => {
  let app: HttpServer;
  let url: URL;
  beforeAll(async () => {
    ({ app, url } = await serve({ maxConnections: 6, maxConnectionsPerAddress: 3 }));
  });
  afterAll(() => app.close());

  it('closes connections past the cap of one address; another address is served', async () => {
    const port = Number(url.port);
    const held = [0, 1, 2].map(() => openRaw(port));
    attackers.push(...held);
    await waitFor(() => held.every((a) => a.connected()), { message: 'three connections' });
    const extra = openRaw(port);
    attackers.push(extra);
    await waitFor(() => extra.closed(), { message: 'the fourth connection to be closed' });
    expect(held.some((a) => a.closed())).toBe(false);

    const other = new Agent({ localAddress: '127.0.0.2' });
    try {
      const response = await undiciFetch(new URL('/healthz', url), { dispatcher: other });
      expect(response.status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
