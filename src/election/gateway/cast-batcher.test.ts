/**
 * The batcher against a real gRPC server that predates CastBatch (it implements Cast alone,
 * so grpc-js answers CastBatch UNIMPLEMENTED): ballots still get stored, one Cast each, and
 * CastBatch is tried again once the recheck time has passed.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Ballot } from '../ballot.js';
import { BallotsClient } from '../grpc-client.js';
import { type BallotMessage, ballotsService, type CastReply } from '../grpc-proto.js';
import { CastBatcher } from './cast-batcher.js';

const ballot = (id: string): Ballot => ({
  id,
  sede: 'Sede 1',
  municipio: 'Guatemala',
  departamento: 'Guatemala',
  papeleta: 'Presidente',
  partido: 'Partido A',
});

describe('CastBatcher with an election-grpc older than CastBatch', () => {
  const stored: string[] = [];
  const server = new grpc.Server();
  let client: BallotsClient;

  beforeAll(async () => {
    const cast: grpc.handleUnaryCall<BallotMessage, CastReply> = (call, callback) => {
      const duplicate = stored.includes(call.request.id);
      if (!duplicate) stored.push(call.request.id);
      callback(null, { id: call.request.id, duplicate });
    };
    // Only Cast: grpc-js answers the methods left out UNIMPLEMENTED, as an old server does.
    server.addService(ballotsService().service, { Cast: cast });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => {
        if (error === null) resolve(bound);
        else reject(error);
      });
    });
    client = new BallotsClient({ address: `127.0.0.1:${port}` });
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  /** A batcher on the old server, counting the UNIMPLEMENTED answers it is told of. */
  function countingBatcher(recheckMs: number) {
    const told = { refusals: 0 };
    const batcher = new CastBatcher(client, {
      recheckMs,
      onUnimplemented: () => {
        told.refusals += 1;
      },
    });
    return { batcher, told };
  }

  it('stores each ballot with a Cast of its own and says so once per recheck', async () => {
    const { batcher, told } = countingBatcher(60_000);
    const first = await Promise.all(['b-1', 'b-2', 'b-3'].map((id) => batcher.cast(ballot(id))));
    expect(first).toEqual([
      { id: 'b-1', duplicate: false },
      { id: 'b-2', duplicate: false },
      { id: 'b-3', duplicate: false },
    ]);
    // A later turn goes straight to Cast: no second UNIMPLEMENTED within the recheck time.
    const again = await Promise.all([batcher.cast(ballot('b-2')), batcher.cast(ballot('b-4'))]);
    expect(again).toEqual([
      { id: 'b-2', duplicate: true },
      { id: 'b-4', duplicate: false },
    ]);
    expect(stored).toEqual(['b-1', 'b-2', 'b-3', 'b-4']);
    expect(told.refusals).toBe(1);
  });

  it('tries CastBatch again once the recheck time has passed', async () => {
    const { batcher, told } = countingBatcher(0);
    await batcher.cast(ballot('b-5'));
    await batcher.cast(ballot('b-6'));
    expect(told.refusals).toBe(2);
    expect(stored.slice(-2)).toEqual(['b-5', 'b-6']);
  });
});
