/**
 * election-grpc under abuse, while a normal client is served: streams that never end are cut at
 * the server's call deadline (having stored their ballots in batches as they arrived), an
 * oversized message or CastBatch is refused, and many open streams do not keep a normal Cast
 * from its answer.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BallotsClient } from '../../src/election/grpc-client.js';
import {
  type BallotMessage,
  ballotsService,
  type CastManyReply,
} from '../../src/election/grpc-proto.js';
import {
  countBallots,
  openWorld,
  seedBallot,
  type World,
} from '../support/election-ingest-world.js';
import { waitFor, waitForHttp } from '../support/processes.js';

let world: World;
let attacker: grpc.Client;
const castMany = ballotsService().service.CastMany;

beforeAll(async () => {
  world = await openWorld('grpc_abuse');
  const server = await world.startGrpc({
    ELECTION_GRPC_CALL_TIMEOUT_MS: '1500',
    ELECTION_GRPC_BATCH_SIZE: '10',
    ELECTION_GRPC_MAX_CONCURRENT_STREAMS: '4',
    ELECTION_GRPC_MAX_STREAM: '30',
  });
  await waitForHttp(`${server.healthUrl}/readyz`);
  // Its own connection (not the process's shared subchannel), as a separate attacker would have.
  attacker = new grpc.Client(world.grpcAddress, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
});

afterAll(async () => {
  attacker.close();
  await world.close();
});

interface OpenStream {
  call: grpc.ClientWritableStream<BallotMessage>;
  settled: Promise<grpc.ServiceError | CastManyReply>;
}

/** A CastMany the client never ends, with a client deadline far beyond the server's. */
function openStream(): OpenStream {
  if (castMany === undefined) throw new Error('no CastMany');
  let call: grpc.ClientWritableStream<BallotMessage> | undefined;
  const settled = new Promise<grpc.ServiceError | CastManyReply>((resolve) => {
    call = attacker.makeClientStreamRequest<BallotMessage, CastManyReply>(
      castMany.path,
      (message) => castMany.requestSerialize(message),
      (buffer) => castMany.responseDeserialize(buffer) as CastManyReply,
      { deadline: new Date(Date.now() + 3_600_000) },
      (error, reply) => {
        resolve(error ?? (reply as CastManyReply));
      },
    );
  });
  if (call === undefined) throw new Error('no call');
  return { call, settled };
}

const message = (id: string): BallotMessage => ({ id, ...seedBallot() });

describe('election-grpc under abuse', () => {
  it('stores a long stream in batches as it arrives and cuts it at the call deadline', async () => {
    const before = await countBallots(world.sql);
    const stream = openStream();
    for (let i = 0; i < 25; i++) stream.call.write(message(`trickle-${i}`));
    // Two full batches are committed while the stream is still open; the last five wait.
    await waitFor(async () => (await countBallots(world.sql)) - before === 20, {
      message: 'two batches to be stored before the stream ends',
    });
    const outcome = await stream.settled;
    expect(outcome).toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
      details: expect.stringContaining('the 20 ballots before it are stored') as unknown,
    });
    expect((await countBallots(world.sql)) - before).toBe(20);
  });

  it('cuts many streams that never end while a normal client is served', async () => {
    const streams = Array.from({ length: 8 }, openStream);
    streams.forEach((stream, i) => stream.call.write(message(`held-${i}`)));
    const normal = new BallotsClient({ address: world.grpcAddress });
    try {
      const reply = await normal.cast({ id: 'normal-1', ...seedBallot() });
      expect(reply).toMatchObject({ id: 'normal-1', duplicate: false });
    } finally {
      normal.close();
    }
    // At most four streams are open at once on the attacker's connection (its cap): the rest
    // are refused, and every open one is cut at the server's deadline.
    const outcomes = await Promise.all(streams.map((stream) => stream.settled));
    const codes = outcomes.map((outcome) => ('code' in outcome ? outcome.code : grpc.status.OK));
    expect(codes).toContain(grpc.status.RESOURCE_EXHAUSTED);
    expect(codes).toContain(grpc.status.DEADLINE_EXCEEDED);
    expect(
      codes.every(
        (code) => code === grpc.status.DEADLINE_EXCEEDED || code === grpc.status.RESOURCE_EXHAUSTED,
      ),
    ).toBe(true);
  });

  it('refuses a message over the size limit', async () => {
    const normal = new BallotsClient({ address: world.grpcAddress });
    try {
      await expect(
        normal.cast({ id: 'huge', ...seedBallot(), sede: 'x'.repeat(100 * 1024) }),
      ).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
      await expect(normal.cast({ id: 'after-huge', ...seedBallot() })).resolves.toMatchObject({
        id: 'after-huge',
      });
    } finally {
      normal.close();
    }
  });

  it('refuses a CastBatch over the ballot cap whole, and stores one at the cap', async () => {
    const normal = new BallotsClient({ address: world.grpcAddress });
    const batch = (size: number, label: string) =>
      Array.from({ length: size }, (_, i) => ({ ...seedBallot(), id: `${label}-${i}` }));
    try {
      const before = await countBallots(world.sql);
      await expect(normal.castBatch(batch(31, 'over-cap'))).rejects.toMatchObject({
        code: grpc.status.RESOURCE_EXHAUSTED,
        details: 'A CastBatch call may carry at most 30 ballots.',
      });
      expect(await countBallots(world.sql)).toBe(before);
      const outcomes = await normal.castBatch(batch(30, 'at-cap'));
      expect(outcomes.map((outcome) => outcome.code)).toEqual(outcomes.map(() => grpc.status.OK));
      expect(await countBallots(world.sql)).toBe(before + 30);
    } finally {
      normal.close();
    }
  });
});
