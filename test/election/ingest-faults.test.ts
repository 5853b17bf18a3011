/**
 * The ingest side when a part fails, against real Redis and Postgres: the gateway answers 503
 * (with the ids to retry with) while election-grpc or Redis is down and recovers without a
 * restart; election-grpc answers UNAVAILABLE while Postgres is away; the subscriber reclaims a
 * dead subscriber's entries and dead-letters the ones it cannot parse.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';

import { findSummaryDrift, storeBallots } from '../../src/election/ballot-store.js';
import { electionGatewayService } from '../../src/election/gateway/service.js';
import { BallotsClient } from '../../src/election/grpc-client.js';
import { electionMigrations } from '../../src/election/migrations.js';
import {
  ballotEntry,
  ballotsStream,
  deadLetterStream,
  electionSystem,
  subscribersGroup,
} from '../../src/election/protocol.js';
import { electionSubscriberService } from '../../src/election/subscriber/service.js';
import { RedisBroker } from '../../src/platform/broker/index.js';
import { migrate, PgSql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl } from '../support/backends.js';
import {
  openWorld,
  post,
  seedBallot,
  storedRoutes,
  waitStored,
  type World,
} from '../support/election-ingest-world.js';
import { openPgProxy } from '../support/pg-proxy.js';
import { freePort, waitFor, waitForHttp } from '../support/processes.js';

const worlds: World[] = [];
const cleanUps: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
  await Promise.all(worlds.splice(0).map((world) => world.close()));
});

async function newWorld(): Promise<World> {
  const world = await openWorld('ingestfault');
  worlds.push(world);
  return world;
}

describe('the gateway', () => {
  it('answers 503 with the ids while election-grpc is down, and stores the retry once it is up', async () => {
    const world = await newWorld();
    const gateway = await world.start(electionGatewayService, {
      ELECTION_GRPC_DEADLINE_MS: '2000',
    });
    const ballot = seedBallot();

    const refused = await post(`${gateway.url}/ingest/grpc`, [ballot, seedBallot()]);
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('grpc_unavailable');
    expect(refused.body.error?.message).toContain(`gRPC ballot server at ${world.grpcAddress}`);
    const ids = refused.body.ids ?? [];
    expect(ids).toHaveLength(2);

    const grpcServer = await world.startGrpc();
    await waitForHttp(`${grpcServer.healthUrl}/readyz`);
    // The same long-lived client finds the server without a gateway restart.
    const retried = await waitFor(
      async () => {
        const answer = await post(`${gateway.url}/ingest/grpc`, [
          { ...ballot, id: ids[0] },
          { ...ballot, id: ids[1] },
        ]);
        return answer.status === 201 && answer;
      },
      { timeoutMs: 15_000, message: 'the gateway to reach election-grpc' },
    );
    expect(retried.body.ids).toEqual(ids);
    expect((await storedRoutes(world.sql, ids)).size).toBe(2);
  });

  it('answers 503 with a readable message while Redis is down', async () => {
    const world = await newWorld();
    const deadRedis = new RedisBroker({ url: `redis://127.0.0.1:${await freePort()}` });
    const gateway = await world.start(electionGatewayService, {}, { broker: deadRedis });
    const refused = await post(`${gateway.url}/ingest/redis`, [seedBallot(), seedBallot()]);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'broker_unavailable' });
    expect(refused.body.error?.message).toMatch(/not answering/);
    expect(refused.body.ids).toHaveLength(2);
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(503);
  });
});

describe('election-grpc limits', () => {
  it('refuses a CastMany over ELECTION_GRPC_MAX_STREAM with RESOURCE_EXHAUSTED, storing none', async () => {
    const world = await newWorld();
    const grpcServer = await world.startGrpc({ ELECTION_GRPC_MAX_STREAM: '2' });
    await waitForHttp(`${grpcServer.healthUrl}/readyz`);
    const client = new BallotsClient({ address: world.grpcAddress });
    cleanUps.push(() => {
      client.close();
      return Promise.resolve();
    });
    await expect(
      client.castMany([seedBallot(), seedBallot(), seedBallot()].map((b) => ({ id: '', ...b }))),
    ).rejects.toMatchObject({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: 'A CastMany stream may carry at most 2 ballots.',
    });
    const gateway = await world.start(electionGatewayService);
    const refused = await post(`${gateway.url}/ingest/grpc`, [
      seedBallot(),
      seedBallot(),
      seedBallot(),
    ]);
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toContain('at most 2 ballots');
    const { rows } = await world.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM ballots');
    expect(rows[0]?.n).toBe(0);
  });
});

describe('election-grpc while Postgres is away', () => {
  it('answers UNAVAILABLE (gateway: 503), then stores once Postgres is back', async () => {
    const world = await newWorld();
    const proxy = await openPgProxy(testDatabaseUrl);
    cleanUps.push(() => proxy.close());
    const viaProxy = new PgSql({ url: proxy.url, schema: world.schema });
    cleanUps.push(() => viaProxy.close());
    const client = new BallotsClient({ address: world.grpcAddress, deadlineMs: 3_000 });
    cleanUps.push(() => {
      client.close();
      return Promise.resolve();
    });

    const grpcServer = await world.startGrpc({}, { sql: viaProxy });
    const gateway = await world.start(electionGatewayService);
    // Before its migrations: waiting, says why.
    await expect(client.cast({ ...seedBallot(), id: 'pg-1' })).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    const readyz = await fetch(`${grpcServer.healthUrl}/readyz`);
    expect(readyz.status).toBe(503);

    proxy.resume();
    await waitForHttp(`${grpcServer.healthUrl}/readyz`);
    expect(await client.cast({ ...seedBallot(), id: 'pg-1' })).toEqual({
      id: 'pg-1',
      duplicate: false,
    });

    proxy.cut();
    await expect(client.cast({ ...seedBallot(), id: 'pg-2' })).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(/database/) as unknown,
    });
    const refused = await post(`${gateway.url}/ingest/grpc`, { ...seedBallot(), id: 'pg-2' });
    expect(refused.status).toBe(503);
    expect(refused.body.error?.message).toMatch(/database/);

    proxy.resume();
    const stored = await waitFor(
      async () => {
        const answer = await post(`${gateway.url}/ingest/grpc`, { ...seedBallot(), id: 'pg-2' });
        return answer.status === 201 && answer;
      },
      { message: 'election-grpc to store again once Postgres is back' },
    );
    expect(stored.body.ids).toEqual(['pg-2']);
    expect((await storedRoutes(world.sql, ['pg-1', 'pg-2'])).size).toBe(2);
  });
});

describe('the subscriber', () => {
  it("reclaims a dead subscriber's pending entries and stores each ballot once", async () => {
    const world = await newWorld();
    const ballots = Array.from({ length: 5 }, (_, i) => ({ ...seedBallot(), id: `orphan-${i}` }));
    for (const ballot of ballots) await world.broker.append(ballotsStream, ballotEntry(ballot));
    // A subscriber that read them and died before acking: they stay pending in its name.
    await world.broker.ensureGroup(ballotsStream, subscribersGroup);
    const taken = await world.broker.readGroup(ballotsStream, subscribersGroup, 'dead-subscriber', {
      count: 10,
      blockMs: 0,
    });
    expect(taken).toHaveLength(5);
    // One of them had already been committed before it died: a redelivery must not count twice.
    await migrate(world.sql, electionSystem, electionMigrations);
    await storeBallots(world.sql, world.broker, ballots.slice(0, 1), 'redis');
    await world.start(electionSubscriberService, {
      ELECTION_SUBSCRIBER_RECLAIM_IDLE_MS: '200',
      ELECTION_SUBSCRIBER_BLOCK_MS: '50',
    });
    const ids = ballots.map((ballot) => ballot.id);
    await waitStored(world.sql, ids);
    await waitFor(async () => (await world.broker.pending(ballotsStream, subscribersGroup)) === 0, {
      message: 'the reclaimed entries to be acked',
    });
    const { rows } = await world.sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM ballots WHERE id = ANY($1::text[])',
      [ids],
    );
    expect(rows[0]?.n).toBe(5);
    expect(await findSummaryDrift(world.sql)).toEqual([]);
  });

  it("reclaims a dead subscriber's entries while a backlog is still being drained", async () => {
    const world = await newWorld();
    await world.broker.ensureGroup(ballotsStream, subscribersGroup);
    const orphans = Array.from({ length: 3 }, (_, i) => ({ ...seedBallot(), id: `stuck-${i}` }));
    for (const ballot of orphans) await world.broker.append(ballotsStream, ballotEntry(ballot));
    // A backlog far longer than one reclaim interval to drain in small batches.
    const backlog = 20_000;
    for (let start = 0; start < backlog; start += 1_000) {
      await Promise.all(
        Array.from({ length: 1_000 }, (_, i) =>
          world.broker.append(
            ballotsStream,
            ballotEntry({ ...seedBallot(), id: `b-${start + i}` }),
          ),
        ),
      );
    }
    // The dead subscriber takes the three oldest just now, so they are not yet idle enough to
    // be reclaimed when the live one starts: it meets them only on a later look.
    await world.broker.readGroup(ballotsStream, subscribersGroup, 'dead-subscriber', {
      count: orphans.length,
      blockMs: 0,
    });
    await world.start(electionSubscriberService, {
      ELECTION_SUBSCRIBER_RECLAIM_IDLE_MS: '1000',
      ELECTION_SUBSCRIBER_BATCH_SIZE: '20',
    });
    await waitStored(
      world.sql,
      orphans.map((ballot) => ballot.id),
    );
    // They did not wait for the backlog to end.
    const { rows } = await world.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM ballots');
    expect(rows[0]?.n).toBeLessThan(backlog);
  });

  it('moves an unparseable entry to ballots:dead with its reason, and goes on', async () => {
    const world = await newWorld();
    const subscriber = await world.start(electionSubscriberService, {
      ELECTION_SUBSCRIBER_BLOCK_MS: '50',
    });
    await world.broker.append(ballotsStream, { ballot: '{"sede":' });
    await world.broker.append(ballotsStream, {
      ballot: JSON.stringify({ ...seedBallot(), partido: 7 }),
    });
    const good = { ...seedBallot(), id: 'after-the-bad' };
    await world.broker.append(ballotsStream, ballotEntry(good));
    await waitStored(world.sql, [good.id]);

    await world.broker.ensureGroup(deadLetterStream, 'inspect');
    const dead = await world.broker.readGroup(deadLetterStream, 'inspect', 'test', {
      count: 10,
      blockMs: 0,
    });
    expect(dead.map((entry) => entry.fields.reason)).toEqual([
      expect.stringContaining('"ballot" is not JSON') as unknown,
      'partido must be a string, got a number',
    ]);
    expect(await world.broker.pending(ballotsStream, subscribersGroup)).toBe(0);
    const metrics = await (await fetch(`${subscriber.healthUrl}/metrics`)).text();
    expect(metrics).toMatch(/^election_subscriber_dead_letters_total\{[^}]*\} 2$/m);
  });

  it('stops promptly while Postgres is away, leaving its batch pending', async () => {
    const world = await newWorld();
    const proxy = await openPgProxy(testDatabaseUrl);
    cleanUps.push(() => proxy.close());
    const viaProxy = new PgSql({ url: proxy.url, schema: world.schema });
    cleanUps.push(() => viaProxy.close());
    proxy.resume();
    const subscriber = await world.start(
      electionSubscriberService,
      { ELECTION_SUBSCRIBER_RECLAIM_IDLE_MS: '600000', ELECTION_SUBSCRIBER_BLOCK_MS: '50' },
      { sql: viaProxy },
    );
    await waitForHttp(`${subscriber.url}/readyz`);
    proxy.cut();
    await world.broker.append(ballotsStream, ballotEntry({ ...seedBallot(), id: 'held' }));
    await waitFor(async () => (await world.broker.pending(ballotsStream, subscribersGroup)) === 1);
    await world.stop(subscriber);
    expect(await world.broker.pending(ballotsStream, subscribersGroup)).toBe(1);
    expect((await storedRoutes(world.sql, ['held'])).size).toBe(0);
  });
});
