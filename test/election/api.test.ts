/**
 * election-api as a process against real Postgres and Redis: each endpoint answers from the
 * summary tables that storeBallots keeps, bad parameters get a 400 naming the parameter,
 * unknown places a 404, and the SSE stream reports a batch after it is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type {
  BallotsPage,
  DepartmentVotes,
  Options,
  PartyShare,
  RecentBallots,
  SedeVotes,
  Summary,
} from '../../src/election/api/schemas.js';
import type { Ballot, Route } from '../../src/election/ballot.js';
import { storeBallots } from '../../src/election/ballot-store.js';
import { RedisBroker } from '../../src/platform/broker/redis.js';
import { PgSql } from '../../src/platform/sql/pg.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from '../support/backends.js';
import {
  agoraCli,
  freePort,
  killAll,
  startProcess,
  waitFor,
  waitForHttp,
} from '../support/processes.js';

const prefix = `${uniqueName('eapi')}:`;
const schema = uniqueName('eapi');
const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
const sql = new PgSql({ url: testDatabaseUrl, schema });
let base = '';

async function startApi(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  startProcess(process.execPath, [agoraCli, 'run', 'election-api', '--port', String(port)], {
    env: { ...process.env, AGORA_REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', ...env },
  });
  return `http://127.0.0.1:${port}`;
}

async function get<T>(path: string, status = 200): Promise<T> {
  const response = await fetch(`${base}${path}`);
  const body = (await response.json()) as T;
  expect(response.status, `${path}: ${JSON.stringify(body)}`).toBe(status);
  return body;
}

let sequence = 0;
function ballot(fields: Partial<Ballot>): Ballot {
  sequence += 1;
  return {
    id: `b-${sequence}`,
    sede: 'Escuela 1',
    municipio: 'Mixco',
    departamento: 'Guatemala',
    papeleta: 'presidente',
    partido: 'Verde',
    ...fields,
  };
}

function store(ballots: Ballot[], route: Route) {
  return storeBallots(sql, broker, ballots, route);
}

/** Reads server-sent `summary` events until one satisfies `until`. */
async function nextSummary(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  until: (summary: Summary) => boolean,
): Promise<Summary> {
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the event stream ended');
    buffered += decoder.decode(value, { stream: true });
    const events = buffered.split('\n\n');
    buffered = events.pop() ?? '';
    for (const event of events) {
      const match = /^event: summary\ndata: (.*)$/m.exec(event);
      if (match === null) continue;
      const summary = JSON.parse(match[1] ?? '') as Summary;
      if (until(summary)) return summary;
    }
  }
}

beforeAll(async () => {
  base = await startApi({
    REDIS_URL: testRedisUrl,
    DATABASE_URL: testDatabaseUrl,
    AGORA_DB_SCHEMA: schema,
  });
  await waitForHttp(`${base}/readyz`, { status: 200, timeoutMs: 20_000 });
});

afterAll(async () => {
  await killAll();
  await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sql.close();
  await broker.close();
});

describe('election-api', () => {
  it('answers every view with zeros and empty lists before any ballot', async () => {
    expect(await get<Summary>('/api/summary')).toEqual({
      total: 0,
      byRoute: { grpc: 0, redis: 0 },
      ratePerSecond: 0,
    });
    expect(await get<DepartmentVotes>('/api/top-departments')).toEqual({
      papeleta: 'presidente',
      items: [],
    });
    expect(await get<SedeVotes>('/api/top-sedes')).toEqual({ papeleta: 'presidente', items: [] });
    expect(await get<RecentBallots>('/api/recent')).toEqual({ items: [] });
    expect(await get<Options>('/api/options')).toEqual({
      papeletas: [],
      partidos: [],
      departamentos: [],
      next: null,
      truncated: false,
    });
    expect(await get<BallotsPage>('/api/ballots')).toEqual({
      items: [],
      total: 0,
      page: 1,
      pageSize: 20,
      nextBefore: null,
    });
  });

  it('pushes a summary event on the stream after a batch is stored', async () => {
    const stream = await fetch(`${base}/api/stream`);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const first = await nextSummary(reader, () => true);
    await store([ballot({ id: 'sse-1' }), ballot({ id: 'sse-2' })], 'grpc');
    const pushed = await nextSummary(reader, (summary) => summary.total >= first.total + 2);
    expect(pushed.byRoute.grpc).toBeGreaterThanOrEqual(2);
    await reader.cancel();
  });

  it('reflects a stored batch in every summary view', async () => {
    const before = await get<Summary>('/api/summary');
    await store(
      [
        ballot({
          departamento: 'Guatemala',
          municipio: 'Mixco',
          sede: 'Escuela 1',
          partido: 'Azul',
        }),
        ballot({
          departamento: 'Guatemala',
          municipio: 'Mixco',
          sede: 'Escuela 1',
          partido: 'Azul',
        }),
        ballot({
          departamento: 'Guatemala',
          municipio: 'Villa Nueva',
          sede: 'Escuela 2',
          partido: 'Rojo',
        }),
        ballot({
          departamento: 'Escuintla',
          municipio: 'Palín',
          sede: 'Escuela 3',
          partido: 'Azul',
        }),
        ballot({ departamento: 'Petén', municipio: 'Flores', sede: 'Escuela 4', partido: 'Rojo' }),
        ballot({
          departamento: 'Petén',
          municipio: 'Flores',
          sede: 'Escuela 4',
          papeleta: 'alcalde',
          partido: 'Rojo',
        }),
      ],
      'redis',
    );
    // A duplicate id changes nothing.
    await store([ballot({ id: 'sse-1' })], 'redis');

    const summary = await get<Summary>('/api/summary');
    expect(summary.total).toBe(before.total + 6);
    expect(summary.byRoute).toEqual({ grpc: before.byRoute.grpc, redis: before.byRoute.redis + 6 });

    // Guatemala: sse-1, sse-2 (Verde, Mixco, Escuela 1) and three more.
    expect(await get<DepartmentVotes>('/api/top-departments?limit=2')).toEqual({
      papeleta: 'presidente',
      items: [
        { departamento: 'Guatemala', votes: 5 },
        { departamento: 'Escuintla', votes: 1 },
      ],
    });
    expect(await get<DepartmentVotes>('/api/top-departments?papeleta=alcalde')).toEqual({
      papeleta: 'alcalde',
      items: [{ departamento: 'Petén', votes: 1 }],
    });

    expect(await get<PartyShare>('/api/party-share/department?departamento=Guatemala')).toEqual({
      papeleta: 'presidente',
      total: 5,
      items: [
        { partido: 'Azul', votes: 2, percent: 40 },
        { partido: 'Verde', votes: 2, percent: 40 },
        { partido: 'Rojo', votes: 1, percent: 20 },
      ],
    });
    expect(
      await get<PartyShare>(
        `/api/party-share/municipality?papeleta=presidente&departamento=Guatemala&municipio=Mixco`,
      ),
    ).toEqual({
      papeleta: 'presidente',
      total: 4,
      items: [
        { partido: 'Azul', votes: 2, percent: 50 },
        { partido: 'Verde', votes: 2, percent: 50 },
      ],
    });

    const sedes = await get<SedeVotes>('/api/top-sedes?limit=2');
    expect(sedes.items).toEqual([
      { sede: 'Escuela 1', municipio: 'Mixco', departamento: 'Guatemala', votes: 4 },
      { sede: 'Escuela 2', municipio: 'Villa Nueva', departamento: 'Guatemala', votes: 1 },
    ]);

    const recent = await get<RecentBallots>('/api/recent');
    expect(recent.items).toHaveLength(5);
    expect(recent.items[0]).toMatchObject({
      departamento: 'Petén',
      papeleta: 'alcalde',
      route: 'redis',
    });

    // The options are cached for two seconds: the first test's empty answer may still be served.
    const current = await waitFor(
      async () => {
        const answer = await get<Options>('/api/options');
        return answer.papeletas.includes('alcalde') ? answer : undefined;
      },
      { message: 'the options to include the batch' },
    );
    expect(current).toEqual({
      papeletas: ['alcalde', 'presidente'],
      partidos: ['Azul', 'Rojo', 'Verde'],
      departamentos: [
        { name: 'Escuintla', municipios: ['Palín'] },
        { name: 'Guatemala', municipios: ['Mixco', 'Villa Nueva'] },
        { name: 'Petén', municipios: ['Flores'] },
      ],
      next: null,
      truncated: false,
    });
  });

  it('pages the options by place, so free-text categories cannot grow one answer without bound', async () => {
    const first = await get<Options>('/api/options?limit=2');
    expect(first.departamentos).toEqual([
      { name: 'Escuintla', municipios: ['Palín'] },
      { name: 'Guatemala', municipios: ['Mixco'] },
    ]);
    expect(first.next).toEqual({ departamento: 'Guatemala', municipio: 'Mixco' });
    const after = new URLSearchParams({
      limit: '2',
      after_departamento: first.next?.departamento ?? '',
      after_municipio: first.next?.municipio ?? '',
    });
    const second = await get<Options>(`/api/options?${after.toString()}`);
    expect(second.departamentos).toEqual([
      { name: 'Guatemala', municipios: ['Villa Nueva'] },
      { name: 'Petén', municipios: ['Flores'] },
    ]);
    expect(second.next).toBeNull();
    await get('/api/options?after_departamento=Guatemala', 400);
    await get('/api/options?limit=5001', 400);
  });

  it('pages the ballots newest first, by cursor, with filters and cheap totals', async () => {
    const first = await get<BallotsPage>('/api/ballots?pageSize=3');
    expect(first.total).toBe(8);
    expect(first.items.map((item) => item.seq)).toEqual(
      [...first.items.map((item) => item.seq)].sort((a, b) => b - a),
    );
    expect(first.items[0]).toMatchObject({ papeleta: 'alcalde', route: 'redis' });
    expect(first.nextBefore).toBe(first.items[2]?.seq);

    const second = await get<BallotsPage>(
      `/api/ballots?pageSize=3&page=2&before=${first.nextBefore ?? 0}`,
    );
    expect(second.page).toBe(2);
    expect(Math.max(...second.items.map((item) => item.seq))).toBeLessThan(
      Math.min(...first.items.map((item) => item.seq)),
    );
    const byOffset = await get<BallotsPage>('/api/ballots?pageSize=3&page=2');
    expect(byOffset.items).toEqual(second.items);

    const last = await get<BallotsPage>(
      `/api/ballots?pageSize=3&page=3&before=${second.nextBefore ?? 0}`,
    );
    expect(last.items).toHaveLength(2);
    expect(last.nextBefore).toBeNull();

    const mixco = await get<BallotsPage>('/api/ballots?municipio=Mixco&partido=Azul');
    expect(mixco.total).toBe(2);
    expect(mixco.items.map((item) => [item.municipio, item.partido])).toEqual([
      ['Mixco', 'Azul'],
      ['Mixco', 'Azul'],
    ]);
    const sede = await get<BallotsPage>('/api/ballots?sede=Escuela%204&papeleta=presidente');
    expect(sede.total).toBe(1);
    expect(sede.items).toHaveLength(1);
    // No summary table counts by sede and party: the page comes without a total.
    const uncounted = await get<BallotsPage>('/api/ballots?sede=Escuela%204&partido=Rojo');
    expect(uncounted.total).toBeNull();
    expect(uncounted.items).toHaveLength(2);
  });

  it('refuses bad parameters with a 400 that names the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/api/ballots?page=0', /page/],
      ['/api/ballots?pageSize=1000', /pageSize/],
      ['/api/ballots?before=abc', /before/],
      ['/api/ballots?before=1e300', /before/],
      ['/api/ballots?page=501', /page.*before/],
      ['/api/ballots?color=red', /color/],
      ['/api/ballots?departamento=', /departamento/],
      [`/api/ballots?sede=${'x'.repeat(101)}`, /sede/],
      // Found by test/fuzz/http.test.ts: a NUL reached Postgres, which refused it with a 500.
      ['/api/ballots?sede=%00', /sede/],
      ['/api/ballots?partido=a%1Fb', /partido/],
      ['/api/top-departments?limit=abc', /limit/],
      ['/api/top-sedes?limit=0', /limit/],
      ['/api/party-share/department', /departamento/],
      ['/api/party-share/municipality?departamento=Guatemala', /municipio/],
      ['/api/summary?verbose=1', /verbose/],
    ];
    for (const [path, names] of cases) {
      const body = await get<{ error: { code: string; message: string } }>(path, 400);
      expect(body.error.code, path).toBe('invalid_request');
      expect(body.error.message, path).toMatch(names);
    }
  });

  it('answers 404 for a place no ballot names and for unknown paths', async () => {
    const department = await get<{ error: { message: string } }>(
      '/api/party-share/department?departamento=Atlantis',
      404,
    );
    expect(department.error.message).toContain('Atlantis');
    await get('/api/party-share/municipality?departamento=Guatemala&municipio=Atlantis', 404);
    await get('/api/nothing-here', 404);
    // A known place without votes of this type is an empty chart, not an error.
    expect(
      await get<PartyShare>('/api/party-share/department?papeleta=alcalde&departamento=Guatemala'),
    ).toEqual({ papeleta: 'alcalde', total: 0, items: [] });
  });

  it('refuses malformed verification requests with a 400-range answer that says why', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${base}/api/verify/ballots`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
    const cases: [string, string, string | undefined, number, string, RegExp][] = [
      ['not JSON', '{"ids": [', undefined, 400, 'malformed_json', /not valid JSON/],
      ['an empty body', '', undefined, 400, 'malformed_json', /empty/],
      ['no ids', '{}', undefined, 400, 'invalid_request', /missing field "ids"/],
      [
        'ids not a list',
        '{"ids":{"a":1}}',
        undefined,
        400,
        'invalid_request',
        /"ids" must be an array/,
      ],
      ['an id not a string', '{"ids":[{"id":7}]}', undefined, 400, 'invalid_request', /"ids.0"/],
      ['an id with spaces', '{"ids":["a b"]}', undefined, 400, 'invalid_request', /"ids.0"/],
      [
        'an unknown field',
        '{"ids":[],"all":true}',
        undefined,
        400,
        'invalid_request',
        /unknown field "all"/,
      ],
      [
        'too many ids',
        JSON.stringify({ ids: Array.from({ length: 501 }, (_, i) => `b${i}`) }),
        undefined,
        400,
        'invalid_request',
        /at most 500|more than 500/,
      ],
      [
        'form data',
        'ids=a',
        'application/x-www-form-urlencoded',
        415,
        'unsupported_media_type',
        /./,
      ],
      [
        'a body over the limit',
        JSON.stringify({ ids: ['x'.repeat(70 * 1024)] }),
        undefined,
        413,
        'payload_too_large',
        /./,
      ],
    ];
    for (const [name, body, type, status, code, message] of cases) {
      const response = await post(body, type);
      const answer = (await response.json()) as { error: { code: string; message: string } };
      expect(response.status, name).toBe(status);
      expect(answer.error.code, name).toBe(code);
      expect(answer.error.message, name).toMatch(message);
    }
    // A well-formed request for ids nobody stored is an empty answer, not an error.
    const empty = await post('{"ids":["never-sent"]}');
    expect(empty.status).toBe(200);
    expect(await empty.json()).toMatchObject({ ballots: [] });
    // The summaries check takes no body and no query; a wrong method is a 404.
    expect((await fetch(`${base}/api/verify/summaries?all=1`)).status).toBe(400);
    expect((await fetch(`${base}/api/verify/summaries`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${base}/api/verify/ballots`)).status).toBe(404);
  });

  it('serves the built dashboard at /', async () => {
    const page = await fetch(base);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<div id="root">');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    // Browsers ask for /favicon.ico whatever the page links.
    for (const path of ['/favicon.svg', '/favicon.ico']) {
      const icon = await fetch(new URL(path, base));
      expect(icon.status, path).toBe(200);
      expect(icon.headers.get('content-type'), path).toMatch(/^image\/svg\+xml/);
    }
  });
});
