/**
 * The news ports under abuse, each while a normal client is served: idle and trickling
 * connections past the per-address cap, a login flood, and TLS (the client verifies the server).
 */
import { type AddressInfo, createServer } from 'node:net';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createAdmin } from '../../src/news/accounts.js';
import { NewsClient } from '../../src/news/client/client.js';
import { callNews } from '../../src/news/frame-client.js';
import { listenFrames } from '../../src/news/frame-server.js';
import { createLogger } from '../../src/platform/logger.js';
import { type Attacker, exchangeFrom, openRaw, trickle } from '../support/abuse.js';
import { uniqueName } from '../support/backends.js';
import { dropSchema, type NewsCluster, startNewsCluster } from '../support/news.js';
import { waitFor } from '../support/processes.js';
import { selfSignedCertificate } from '../support/tls.js';

const attackers: Attacker[] = [];
const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  for (const attacker of attackers.splice(0)) attacker.socket.destroy();
});

const pingLine = '{"v":1,"id":1,"op":"ping"}\n';

/** A ping from another loopback address than the attacker's 127.0.0.1. */
async function pingFrom(port: number, localAddress: string): Promise<string> {
  const client = openRaw(port, { localAddress });
  attackers.push(client);
  client.socket.write(pingLine);
  return waitFor(() => client.received().includes('\n') && client.received(), {
    message: `an answer to ${localAddress}`,
  });
}

const portOf = (address: string) => Number(address.split(':')[1]);

describe('news connections past the caps', () => {
  const schema = uniqueName('news_abuse');
  let cluster: NewsCluster;
  beforeAll(async () => {
    cluster = await startNewsCluster(schema, 1, {
      NEWS_MAX_CONNECTIONS_PER_ADDRESS: '4',
      NEWS_IDLE_TIMEOUT_MS: '1500',
    });
  });
  afterAll(async () => {
    await cluster.stop();
    await dropSchema(schema);
  });

  it('refuses connections past the per-address cap as busy, closes the held ones, serves others', async () => {
    for (const address of [cluster.agent, ...cluster.nodes]) {
      const port = portOf(address);
      const idle = [openRaw(port), openRaw(port)];
      const trickling = [openRaw(port), openRaw(port)];
      attackers.push(...idle, ...trickling);
      for (const attacker of trickling) stops.push(trickle(attacker, 100));
      await waitFor(() => [...idle, ...trickling].every((a) => a.connected()));

      const extra = openRaw(port);
      attackers.push(extra);
      await waitFor(() => extra.closed(), { message: 'the fifth connection to be closed' });
      expect(JSON.parse(extra.received())).toMatchObject({ ok: false, error: { code: 'busy' } });

      // Another address is served while the four are held.
      expect(JSON.parse(await pingFrom(port, '127.0.0.2'))).toMatchObject({ ok: true });

      // The held connections do not outlive their deadline: each is answered and closed.
      await waitFor(() => [...idle, ...trickling].every((a) => a.closed()), {
        message: 'the held connections to be closed',
      });
      for (const attacker of [...idle, ...trickling]) {
        expect(attacker.received()).toContain('idle_timeout');
      }
      // And once they are gone, the attacker's address is served again.
      await expect(callNews(address, { op: 'ping' })).resolves.toBeDefined();
    }
  });
});

describe('a news port with a handler that never answers', () => {
  it('answers timeout at the handler deadline, and the overall cap answers busy', async () => {
    const frames = await listenFrames(
      {
        handle: (request) =>
          request.op === 'hang' ? new Promise(() => undefined) : Promise.resolve('pong'),
        logger: createLogger({ level: 'silent' }),
        idleTimeoutMs: 5_000,
        handlerTimeoutMs: 300,
        connections: { max: 2, perAddress: 0 },
      },
      '127.0.0.1',
      0,
    );
    try {
      const address = `127.0.0.1:${frames.port}`;
      await expect(callNews(address, { op: 'hang' })).rejects.toMatchObject({ code: 'timeout' });
      const held = [openRaw(frames.port), openRaw(frames.port)];
      attackers.push(...held);
      await waitFor(() => held.every((a) => a.connected()));
      await expect(callNews(address, { op: 'ping' })).rejects.toMatchObject({ code: 'busy' });
      for (const attacker of held) attacker.socket.destroy();
      await waitFor(() => callNews(address, { op: 'ping' }).then((r) => r === 'pong'), {
        message: 'the port to serve again once the held connections are gone',
      });
    } finally {
      await frames.close();
    }
  });
});

describe('a server that answers without end', () => {
  it('is cut off by the client past the answer cap', async () => {
    const chunk = 'x'.repeat(1024 * 1024);
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      const pump = () => {
        while (!socket.destroyed && socket.write(chunk));
        if (!socket.destroyed) socket.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await expect(
        callNews(`127.0.0.1:${port}`, { op: 'ping' }, { timeoutMs: 60_000 }),
      ).rejects.toMatchObject({
        code: 'unavailable',
        message: /answered more than 16777216 bytes/,
      });
    } finally {
      server.close();
    }
  });
});

describe('a login flood', () => {
  const schema = uniqueName('news_flood');
  let cluster: NewsCluster;
  beforeAll(async () => {
    cluster = await startNewsCluster(schema, 1, {
      NEWS_LOGIN_FREE_FAILURES: '3',
      NEWS_LOGIN_BACKOFF_MS: '60000',
    });
    await cluster.client().register('victim', 'victim-password');
    await cluster.client().register('normal', 'normal-password');
  });
  afterAll(async () => {
    await cluster.stop();
    await dropSchema(schema);
  });

  it('is refused readably while a normal user logs in', async () => {
    const guess = `${JSON.stringify({ v: 1, id: 1, op: 'login', name: 'victim', password: 'guess-guess' })}\n`;
    const codes = new Map<string, number>();
    let flooding = true;
    const flood = async () => {
      while (flooding) {
        // From 127.0.0.2: the normal user below connects from 127.0.0.1.
        const outcome = await exchangeFrom(portOf(cluster.agent), guess, '127.0.0.2').then(
          (line) => {
            const frame = JSON.parse(line) as { ok: boolean; error?: { code: string } };
            return frame.ok ? 'ok' : (frame.error?.code ?? 'none');
          },
          (error: unknown) => String(error),
        );
        codes.set(outcome, (codes.get(outcome) ?? 0) + 1);
      }
    };
    const attackers = Array.from({ length: 16 }, flood);
    try {
      await waitFor(() => (codes.get('rate_limited') ?? 0) > 50, {
        message: () => `the flood to be rate limited (so far ${JSON.stringify([...codes])})`,
      });
      // The flood is still running: a normal user, from another address, logs in.
      const normal = new NewsClient({ agent: cluster.agent });
      const login = await normal.login('normal', 'normal-password');
      expect(login.user.name).toBe('normal');
      expect(await normal.whoami()).toMatchObject({ name: 'normal' });
    } finally {
      flooding = false;
      await Promise.all(attackers);
    }
    // Nothing but refusals: three wrong guesses, then waits (or busy while hashes ran).
    expect(codes.get('ok')).toBeUndefined();
    expect(
      [...codes.keys()].every((code) => ['bad_credentials', 'rate_limited', 'busy'].includes(code)),
    ).toBe(true);
    expect(codes.get('bad_credentials')).toBeLessThanOrEqual(3 + 16);
    const refusal = await callNews(cluster.agent, {
      op: 'login',
      name: 'victim',
      password: 'victim-password',
    }).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: 'rate_limited' });
    expect((refusal as Error).message).toMatch(/try again in \d+ s/);
  });
});

describe('news over TLS', () => {
  const schema = uniqueName('news_tls');
  const certificate = selfSignedCertificate();
  let cluster: NewsCluster;
  beforeAll(async () => {
    cluster = await startNewsCluster(
      schema,
      1,
      {
        NEWS_TLS_CERT: certificate.certFile,
        NEWS_TLS_KEY: certificate.keyFile,
        NEWS_TLS_CA: certificate.certFile,
      },
      { ca: certificate.cert },
    );
  });
  afterAll(async () => {
    await cluster.stop();
    await dropSchema(schema);
  });

  it('serves a client that trusts the certificate, end to end through agent and node', async () => {
    await createAdmin(cluster.sql, 'root', 'root-password');
    const admin = cluster.client();
    await admin.login('root', 'root-password');
    await admin.addArea('secure');
    const client = cluster.client();
    await client.register('tls-user', 'tls-password');
    expect(await client.whoami()).toMatchObject({ name: 'tls-user' });
    await client.subscribe('secure');
    await client.post('secure', 'over TLS');
    expect((await client.read('secure')).map((item) => item.text)).toEqual(['over TLS']);
  });

  it('is refused by a client that does not trust the certificate, and by a plain one', async () => {
    await expect(
      callNews(cluster.agent, { op: 'ping' }, { tls: {}, timeoutMs: 2_000 }),
    ).rejects.toMatchObject({ code: 'unavailable', message: /self-signed|certificate/ });
    await expect(
      callNews(cluster.agent, { op: 'ping' }, { timeoutMs: 2_000 }),
    ).rejects.toMatchObject({ code: 'unavailable' });
  });
});
