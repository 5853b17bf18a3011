/**
 * The ingest side of the election against real Redis and Postgres: both routes store what the
 * gateway acknowledges, a ballot id is stored once whatever route and however often it is sent,
 * bad ballots are refused naming the field (400 over HTTP, INVALID_ARGUMENT over gRPC) with
 * nothing written, and the summaries equal a fresh aggregate after a mixed run.
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findSummaryDrift } from '../../src/election/ballot-store.js';
import { BallotsClient } from '../../src/election/grpc-client.js';
import { ballotsStream, grpcServiceName } from '../../src/election/protocol.js';
import {
  countBallots,
  openWorld,
  post,
  seedBallot,
  startIngest,
  storedRoutes,
  waitStored,
  type World,
} from '../support/election-ingest-world.js';

let world: World;
let gateway: string;
let client: BallotsClient;

beforeAll(async () => {
  world = await openWorld('ingest');
  ({ gateway } = await startIngest(world));
  client = new BallotsClient({ address: world.grpcAddress, deadlineMs: 5_000 });
});

afterAll(async () => {
  client.close();
  await world.close();
});

describe('each route stores ballots', () => {
  it('POST /ingest/grpc answers 201 once the ballot is in Postgres', async () => {
    const answer = await post(`${gateway}/ingest/grpc`, seedBallot());
    expect(answer.status).toBe(201);
    expect(answer.body.route).toBe('grpc');
    const ids = answer.body.ids ?? [];
    expect(ids).toHaveLength(1);
    // No waiting: the gRPC route answers after the commit.
    expect(await storedRoutes(world.sql, ids)).toEqual(new Map([[ids[0], 'grpc']]));
  });

  it('POST /ingest/grpc with an array stores all of them (one CastMany)', async () => {
    const answer = await post(`${gateway}/ingest/grpc`, [seedBallot(), seedBallot(), seedBallot()]);
    expect(answer.status).toBe(201);
    expect((await storedRoutes(world.sql, answer.body.ids ?? [])).size).toBe(3);
  });

  it('POST /ingest/redis answers 201 once the ballots are in the stream; the subscriber stores them', async () => {
    const answer = await post(`${gateway}/ingest/redis`, [seedBallot(), seedBallot()]);
    expect(answer.status).toBe(201);
    expect(answer.body.route).toBe('redis');
    const ids = answer.body.ids ?? [];
    await waitStored(world.sql, ids);
    expect([...(await storedRoutes(world.sql, ids)).values()]).toEqual(['redis', 'redis']);
  });

  it('POST /ingest splits the seed JSON between both routes and stores every ballot', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => post(`${gateway}/ingest`, seedBallot())),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    const ids = answers.flatMap((a) => a.body.ids ?? []);
    await waitStored(world.sql, ids);
    const routes = new Set((await storedRoutes(world.sql, ids)).values());
    // 40 fair draws all landing on one route: 2 in a trillion.
    expect(routes).toEqual(new Set(['grpc', 'redis']));
  });

  it('gRPC Cast and CastMany store directly and return the ids', async () => {
    const one = await client.cast({ id: 'direct-1', ...seedBallot() });
    expect(one).toEqual({ id: 'direct-1', duplicate: false });
    const many = await client.castMany([
      { id: 'direct-2', ...seedBallot() },
      { id: '', ...seedBallot() },
    ]);
    expect(many.stored).toBe(2);
    expect(many.ids[0]).toBe('direct-2');
    expect((await storedRoutes(world.sql, many.ids)).size).toBe(2);
  });

  it('gRPC health says SERVING for the server and the Ballots service', async () => {
    const health = new grpc.Client(world.grpcAddress, grpc.credentials.createInsecure());
    const check = healthService.Check;
    if (check === undefined) throw new Error('no Check in the health service');
    const statusOf = (serviceName: string) =>
      new Promise<unknown>((resolve, reject) => {
        health.makeUnaryRequest(
          check.path,
          (message: { service: string }) => check.requestSerialize(message),
          (buffer: Buffer): unknown => check.responseDeserialize(buffer),
          { service: serviceName },
          (error, reply) => {
            if (error === null) resolve(reply);
            else reject(error);
          },
        );
      });
    expect(await statusOf('')).toEqual({ status: 'SERVING' });
    expect(await statusOf(grpcServiceName)).toEqual({ status: 'SERVING' });
    health.close();
  });
});

describe("the gateway's root", () => {
  it('links to the ingest routes and their documentation, with an icon', async () => {
    const index = (await (await fetch(`${gateway}/`)).json()) as { links: Record<string, string> };
    expect(index.links).toEqual({
      ingest: '/ingest',
      grpc: '/ingest/grpc',
      redis: '/ingest/redis',
      docs: '/docs',
    });
    expect((await fetch(`${gateway}/docs`)).status).toBe(200);
    expect((await fetch(`${gateway}/favicon.ico`)).headers.get('content-type')).toContain('svg');
  });
});

describe('a ballot id is stored once', () => {
  it.each(['grpc', 'redis'])('sent twice to /ingest/%s', async (route) => {
    const ballot = { ...seedBallot(), id: `twice-${route}` };
    const first = await post(`${gateway}/ingest/${route}`, ballot);
    const second = await post(`${gateway}/ingest/${route}`, [ballot, ballot]);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.ids).toEqual([ballot.id, ballot.id]);
    await waitStored(world.sql, [ballot.id]);
    // A later ballot on the same route proves the repeats were processed, not still queued.
    const marker = await post(`${gateway}/ingest/${route}`, seedBallot());
    await waitStored(world.sql, marker.body.ids ?? []);
    const { rows } = await world.sql.query('SELECT id FROM ballots WHERE id = $1', [ballot.id]);
    expect(rows).toHaveLength(1);
  });

  it('sent to both routes, keeping the first route that stored it', async () => {
    const ballot = { ...seedBallot(), id: 'both-routes' };
    expect((await post(`${gateway}/ingest/grpc`, ballot)).status).toBe(201);
    expect((await post(`${gateway}/ingest/redis`, ballot)).status).toBe(201);
    const repeat = await client.cast(ballot);
    expect(repeat).toEqual({ id: 'both-routes', duplicate: true });
    const marker = await post(`${gateway}/ingest/redis`, seedBallot());
    await waitStored(world.sql, marker.body.ids ?? []);
    expect(await storedRoutes(world.sql, [ballot.id])).toEqual(new Map([[ballot.id, 'grpc']]));
  });
});

describe('a ballot id stored with other fields is a conflict, not a duplicate', () => {
  it('POST /ingest/grpc answers 409 and stores nothing of the request', async () => {
    const ballot = { ...seedBallot(), id: 'conflict-http' };
    expect((await post(`${gateway}/ingest/grpc`, ballot)).status).toBe(201);
    const before = await countBallots(world.sql);
    const other = { ...ballot, partido: `${ballot.partido}-forged` };
    const fresh = { ...seedBallot(), id: 'conflict-http-fresh' };
    const answer = await post(`${gateway}/ingest/grpc`, [fresh, other]);
    expect(answer.status).toBe(409);
    expect(answer.body.error?.code).toBe('ballot_conflict');
    expect(answer.body.error?.message).toContain('"conflict-http" is already stored');
    expect(await countBallots(world.sql)).toBe(before);
    // The same ballot again is still a harmless retry.
    expect((await post(`${gateway}/ingest/grpc`, ballot)).status).toBe(201);
  });

  it('gRPC Cast and CastMany answer ALREADY_EXISTS; the stored ballot stays as it was', async () => {
    const ballot = { ...seedBallot(), id: 'conflict-grpc' };
    expect(await client.cast(ballot)).toEqual({ id: ballot.id, duplicate: false });
    const other = { ...ballot, sede: `${ballot.sede} (other)` };
    await expect(client.cast(other)).rejects.toMatchObject({ code: grpc.status.ALREADY_EXISTS });
    await expect(
      client.castMany([{ ...seedBallot(), id: 'conflict-grpc-new' }, other]),
    ).rejects.toMatchObject({ code: grpc.status.ALREADY_EXISTS });
    const { rows } = await world.sql.query<{ sede: string }>(
      'SELECT sede FROM ballots WHERE id = ANY($1::text[])',
      [[ballot.id, 'conflict-grpc-new']],
    );
    expect(rows).toEqual([{ sede: ballot.sede }]);
    expect(await client.cast(ballot)).toEqual({ id: ballot.id, duplicate: true });
  });
});

describe('gRPC CastBatch answers each ballot on its own', () => {
  it('stores the new ones, names duplicates, and fails a conflicting or bad ballot alone', async () => {
    const stored = { ...seedBallot(), id: 'batch-stored' };
    expect(await client.cast(stored)).toEqual({ id: stored.id, duplicate: false });
    const fresh = { ...seedBallot(), id: 'batch-fresh' };
    const before = await countBallots(world.sql);
    const outcomes = await client.castBatch([
      fresh,
      { ...stored, partido: `${stored.partido}-forged` },
      { ...seedBallot(), id: '' },
      stored,
      { ...seedBallot(), id: 'batch-bad', sede: '' },
      fresh,
    ]);
    expect(outcomes).toEqual([
      { id: fresh.id, duplicate: false, code: grpc.status.OK, details: '' },
      {
        id: stored.id,
        duplicate: false,
        code: grpc.status.ALREADY_EXISTS,
        details: expect.stringContaining('"batch-stored" is already stored') as unknown,
      },
      {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
        duplicate: false,
        code: 0,
        details: '',
      },
      { id: stored.id, duplicate: true, code: grpc.status.OK, details: '' },
      {
        id: 'batch-bad',
        duplicate: false,
        code: grpc.status.INVALID_ARGUMENT,
        details: 'sede must not be empty',
      },
      // The same ballot twice in one call is stored once, as two Casts of it would be.
      { id: fresh.id, duplicate: true, code: grpc.status.OK, details: '' },
    ]);
    expect(await countBallots(world.sql)).toBe(before + 2);
    const generated = outcomes[2]?.id ?? '';
    expect(await storedRoutes(world.sql, [fresh.id, generated])).toEqual(
      new Map([
        [fresh.id, 'grpc'],
        [generated, 'grpc'],
      ]),
    );
    const { rows } = await world.sql.query<{ partido: string }>(
      'SELECT partido FROM ballots WHERE id = $1',
      [stored.id],
    );
    expect(rows).toEqual([{ partido: stored.partido }]);
    expect(await findSummaryDrift(world.sql)).toEqual([]);
  });

  it('concurrent single-ballot POSTs to /ingest/grpc: a conflicting one gets its 409 alone', async () => {
    const stored = { ...seedBallot(), id: 'coalesced-stored' };
    expect((await post(`${gateway}/ingest/grpc`, stored)).status).toBe(201);
    const fresh = Array.from({ length: 8 }, (_, i) => ({ ...seedBallot(), id: `coalesced-${i}` }));
    const forged = { ...stored, sede: `${stored.sede} (forged)` };
    const answers = await Promise.all(
      [...fresh.slice(0, 4), forged, stored, ...fresh.slice(4)].map((ballot) =>
        post(`${gateway}/ingest/grpc`, ballot),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual([
      201, 201, 201, 201, 409, 201, 201, 201, 201, 201,
    ]);
    expect(answers[4]?.body.error?.code).toBe('ballot_conflict');
    expect(answers[4]?.body.error?.message).toContain('"coalesced-stored" is already stored');
    expect(answers[5]?.body).toEqual({ ids: [stored.id], route: 'grpc' });
    expect(answers[0]?.body).toEqual({ ids: ['coalesced-0'], route: 'grpc' });
    const routes = await storedRoutes(world.sql, [...fresh.map((ballot) => ballot.id), stored.id]);
    expect(routes.size).toBe(9);
    const { rows } = await world.sql.query<{ sede: string }>(
      'SELECT sede FROM ballots WHERE id = $1',
      [stored.id],
    );
    expect(rows).toEqual([{ sede: stored.sede }]);
  });
});

describe('bad ballots', () => {
  const good = seedBallot();
  it.each([
    ['a missing field', { ...good, partido: undefined }, 'partido: missing field'],
    ['an empty field', { ...good, sede: '' }, 'sede must not be empty'],
    ['a number', { ...good, municipio: 5 }, 'municipio must be a string'],
    ['an unknown key', { ...good, votos: 3 }, 'votos: unknown field'],
    ['a bad id', { ...good, id: 'no spaces' }, 'id must be 1 to 64 characters'],
    [
      'a bad array item',
      [good, good, good, { ...good, partido: '' }],
      '[3].partido must not be empty',
    ],
    ['an empty array', [], 'no ballots'],
    ['a string', 'UNE', 'must be a JSON object'],
  ])('%s gets a 400 naming it and nothing is written', async (_case, body, message) => {
    for (const route of ['grpc', 'redis', '']) {
      const before = await countBallots(world.sql);
      // Appended ever, not held now: the subscriber trims what it has acked meanwhile.
      const queued = await world.entriesAdded(ballotsStream);
      const answer = await post(`${gateway}/ingest${route === '' ? '' : `/${route}`}`, body);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.message).toContain(message);
      expect(await countBallots(world.sql)).toBe(before);
      expect(await world.entriesAdded(ballotsStream)).toBe(queued);
    }
  });

  it('malformed JSON and oversized arrays are refused', async () => {
    const malformed = await fetch(`${gateway}/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sede":',
    });
    expect(malformed.status).toBe(400);
    const tooMany = await post(
      `${gateway}/ingest/grpc`,
      Array.from({ length: 1001 }, () => good),
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error?.message).toContain('at most 1000');
  });

  it('gRPC Cast refuses a bad message with INVALID_ARGUMENT naming the field', async () => {
    await expect(client.cast({ ...seedBallot(), id: 'x', partido: '' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'partido must not be empty',
    });
    await expect(client.cast({ ...seedBallot(), id: 'bad id!' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('id must be') as unknown,
    });
  });

  it('gRPC CastMany with one bad message stores none of the stream', async () => {
    const before = await countBallots(world.sql);
    await expect(
      client.castMany([
        { ...seedBallot(), id: 'many-ok-1' },
        { ...seedBallot(), id: 'many-ok-2' },
        { ...seedBallot(), id: 'many-bad', sede: '   ' },
      ]),
    ).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: '[2].sede must not be empty',
    });
    expect(await countBallots(world.sql)).toBe(before);
  });
});

describe('after a mixed run', () => {
  it('the summaries equal a fresh aggregate of the ballots', async () => {
    const ids: string[] = [];
    // A repeated id is the same ballot again (a retry): the same id with other fields would be
    // a conflict.
    const sent = new Map<string, ReturnType<typeof seedBallot>>();
    const ballotOf = (id: string) => sent.get(id) ?? sent.set(id, seedBallot({ id })).get(id);
    const batches = Array.from({ length: 12 }, (_, i) =>
      Array.from({ length: 25 }, (_, j) => ballotOf(`mixed-${i}-${j % 20}`)),
    );
    const answers = await Promise.all(
      batches.map((batch, i) =>
        post(`${gateway}/ingest${['/grpc', '/redis', ''][i % 3] ?? ''}`, batch),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(201);
      ids.push(...(answer.body.ids ?? []));
    }
    await waitStored(world.sql, [...new Set(ids)]);
    const marker = await post(`${gateway}/ingest/redis`, seedBallot());
    await waitStored(world.sql, marker.body.ids ?? []);
    expect(await findSummaryDrift(world.sql)).toEqual([]);
    const { rows } = await world.sql.query<{ route: string; ballots: number }>(
      `SELECT r.route, (sum(r.ballots) - (SELECT count(*) FROM ballots b WHERE b.route = r.route))::int AS ballots
       FROM ballots_by_route r GROUP BY r.route`,
    );
    expect(rows.every((row) => row.ballots === 0)).toBe(true);
  });
});
