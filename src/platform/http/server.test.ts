import { pino } from 'pino';
import { Type } from 'typebox';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NotFoundError } from '../errors.js';
import { Readiness } from '../health.js';
import { createLogger } from '../logger.js';
import { createMetricsRegistry } from '../metrics.js';
import { createHttpServer, type HttpServer, listen } from './server.js';

let app: HttpServer;
let base: string;
let brokerUp = true;
const stored: string[] = [];

beforeAll(async () => {
  const readiness = new Readiness();
  readiness.add('broker', () =>
    brokerUp ? Promise.resolve() : Promise.reject(new Error('connect ECONNREFUSED')),
  );
  app = await createHttpServer(
    {
      name: 'test',
      version: '1.2.3',
      logger: createLogger({ level: 'silent' }),
      metrics: createMetricsRegistry('test'),
      readiness,
    },
    { bodyLimit: 1024 },
  );
  app.post(
    '/items',
    {
      schema: {
        body: Type.Object({ name: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
      },
    },
    (request, reply) => {
      stored.push(request.body.name);
      return reply.status(201).send({ stored: request.body.name });
    },
  );
  app.get('/missing', () => {
    throw new NotFoundError('No such item.');
  });
  app.get('/boom', () => {
    throw new Error('secret internal detail');
  });
  base = await listen(app, '127.0.0.1', 0);
});

afterAll(() => app.close());

async function post(body: string, contentType = 'application/json') {
  const response = await fetch(`${base}/items`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  return { status: response.status, body: await response.json() };
}

describe('the HTTP server factory', () => {
  it('accepts a valid body', async () => {
    expect(await post('{"name":"a"}')).toEqual({ status: 201, body: { stored: 'a' } });
  });

  it.each([
    ['malformed JSON', '{"name":', 400, 'malformed_json', 'The request body is not valid JSON.'],
    ['a missing field', '{}', 400, 'invalid_request', 'body: missing field "name"'],
    [
      'an unknown field',
      '{"name":"a","admin":true}',
      400,
      'invalid_request',
      'body: unknown field "admin"',
    ],
    [
      'a wrong type',
      '{"name":{"$gt":""}}',
      400,
      'invalid_request',
      'The field "name" must be a string.',
    ],
    [
      'an empty string',
      '{"name":""}',
      400,
      'invalid_request',
      'The field "name" must not be empty.',
    ],
    [
      'an oversized body',
      JSON.stringify({ name: 'x'.repeat(2048) }),
      413,
      'payload_too_large',
      undefined,
    ],
  ])(
    'refuses %s with a JSON error and stores nothing',
    async (_case, body, status, code, message) => {
      const before = stored.length;
      const reply = await post(body);
      expect(reply.status).toBe(status);
      expect(reply.body).toMatchObject({ error: { code } });
      if (message !== undefined) expect(reply.body).toEqual({ error: { code, message } });
      expect(stored.length).toBe(before);
    },
  );

  it('refuses a content type it cannot parse with 415', async () => {
    const reply = await post('name=a', 'application/x-www-form-urlencoded');
    expect(reply.status).toBe(415);
    expect(reply.body).toMatchObject({ error: { code: 'unsupported_media_type' } });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await fetch(`${base}/nowhere?x=1`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: 'not_found', message: 'No route for GET /nowhere?x=1' },
    });
  });

  it('maps a domain error to its status and code', async () => {
    const response = await fetch(`${base}/missing`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: 'not_found', message: 'No such item.' },
    });
  });

  it('hides an unexpected error behind a 500 without internals', async () => {
    const response = await fetch(`${base}/boom`);
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'internal' } });
    expect(text).not.toContain('secret internal detail');
  });

  it('reports alive on /healthz and what it waits for on /readyz', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({
      status: 'alive',
      service: 'test',
      version: '1.2.3',
    });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    brokerUp = false;
    const waiting = await fetch(`${base}/readyz`);
    brokerUp = true;
    expect(waiting.status).toBe(503);
    // A public port names the check but not the driver's error (which may name a host).
    expect(await waiting.json()).toMatchObject({
      status: 'waiting',
      checks: { broker: 'waiting' },
    });
  });

  it('gives the reason on an admin port, and logs it once when it changes', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const readiness = new Readiness(logger);
    readiness.add('sql', () => Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:5432')));
    const admin = await createHttpServer(
      { name: 'admin', version: '1', logger, metrics: createMetricsRegistry('admin'), readiness },
      { readinessDetail: 'full' },
    );
    try {
      for (let i = 0; i < 2; i++) {
        const answer = await admin.inject({ url: '/readyz' });
        expect(answer.json()).toMatchObject({
          checks: { sql: 'connect ECONNREFUSED 10.1.2.3:5432' },
        });
      }
      expect(lines.filter((line) => line.includes('not ready'))).toHaveLength(1);
    } finally {
      await admin.close();
    }
  });

  it('counts requests per route and status on /metrics', async () => {
    await post('{"name":"counted"}');
    const text = await (await fetch(`${base}/metrics`)).text();
    const count = text
      .split('\n')
      .find(
        (line) =>
          line.startsWith('http_request_duration_seconds_count{') &&
          line.includes('method="POST"') &&
          line.includes('route="/items"') &&
          line.includes('status_code="201"'),
      );
    expect(count).toMatch(/ [1-9]\d*$/);
    // Unknown paths share one series, so a scan of random URLs cannot grow the metric.
    expect(text).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="unmatched"[^}]*\} [1-9]/,
    );
    expect(text).not.toContain('route="/nowhere');
    expect(text).toContain('http_request_duration_seconds_bucket');
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});

describe('a stop under load', () => {
  async function startServer() {
    const server = await createHttpServer({
      name: 'draining',
      version: '1.0.0',
      logger: createLogger({ level: 'silent' }),
      metrics: createMetricsRegistry('draining'),
      readiness: new Readiness(),
    });
    server.get('/work', () => ({ ok: true }));
    return { server, url: await listen(server, '127.0.0.1', 0) };
  }

  it('answers every request sent on a kept-alive connection, each then told to close', async () => {
    const { server, url } = await startServer();
    const pool = new Pool(url, { connections: 8 });
    let closing: Promise<void> | undefined;
    let answered = 0;
    // Each lane posts back to back on its pooled connection, as a client of a rolling update
    // does, until an answer tells it to take its next request elsewhere.
    const lane = async () => {
      for (;;) {
        const response = await pool.request({ path: '/work', method: 'GET' });
        await response.body.dump();
        expect(response.statusCode).toBe(200);
        answered += 1;
        if (answered === 200) closing = server.close();
        if (response.headers.connection === 'close') return;
      }
    };
    try {
      // A reset (ECONNRESET, "other side closed") rejects its lane and this test.
      await Promise.all(Array.from({ length: 8 }, lane));
      await closing;
    } finally {
      await pool.close();
    }
    expect(answered).toBeGreaterThan(200);
  });

  it('closes at once when no connection is open', async () => {
    const { server, url } = await startServer();
    expect((await fetch(`${url}/work`, { headers: { connection: 'close' } })).status).toBe(200);
    await server.close();
    await expect(fetch(`${url}/work`)).rejects.toThrow();
  });
});
