/**
 * Property-based fuzzing of election-grpc: generated Ballot messages (hostile field text) over
 * Cast and CastMany, and raw bytes that are no valid protobuf. Every call ends OK or with a
 * client error code (INVALID_ARGUMENT, ALREADY_EXISTS, RESOURCE_EXHAUSTED), never INTERNAL or
 * UNKNOWN, and a refused call stored nothing. Seeded and bounded in time.
 */
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { BallotsClient } from '../../src/election/grpc-client.js';
import { openWorld, type World } from '../support/election-ingest-world.js';
import { waitFor } from '../support/processes.js';
import { fuzzParameters, hostileText, storesDigest } from './support.js';

let world: World;
let client: BallotsClient;
let raw: grpc.Client;

beforeAll(async () => {
  world = await openWorld('fuzz_grpc');
  await world.startGrpc();
  client = new BallotsClient({ address: world.grpcAddress, deadlineMs: 5_000 });
  raw = new grpc.Client(world.grpcAddress, grpc.credentials.createInsecure());
  // Fuzz a serving server: its schema is migrated once a ballot is stored.
  await waitFor(
    () =>
      client.cast(validBallot).then(
        () => true,
        () => false,
      ),
    {
      timeoutMs: 20_000,
      message: 'election-grpc to store a ballot',
    },
  );
});

const validBallot = {
  id: 'fuzz-valid',
  sede: 'S',
  municipio: 'M',
  departamento: 'D',
  papeleta: 'P',
  partido: 'X',
};

afterAll(async () => {
  client.close();
  raw.close();
  await world.close();
});

const clientCodes = new Set([
  grpc.status.OK,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.ALREADY_EXISTS,
  grpc.status.RESOURCE_EXHAUSTED,
]);

const field = fc.oneof(hostileText, fc.constantFrom('Mixco', 'UNE', 'presidente', 'Guatemala'));
const ballot = fc.record({
  id: fc.oneof(hostileText, fc.constantFrom('fuzz-1', 'fuzz-2', '')),
  sede: field,
  municipio: field,
  departamento: field,
  papeleta: field,
  partido: field,
});

function codeOf(error: unknown): grpc.status {
  return typeof error === 'object' && error !== null && 'code' in error
    ? (error as { code: grpc.status }).code
    : grpc.status.UNKNOWN;
}

/** Runs a call; its status code, and whether the stores changed although it was refused. */
async function observe(call: () => Promise<unknown>) {
  const before = await storesDigest([world]);
  const code = await call().then(
    () => grpc.status.OK,
    (error: unknown) => codeOf(error),
  );
  const after = code === grpc.status.OK ? before : await storesDigest([world]);
  const changed =
    after === before
      ? false
      : after
          .split(' ')
          .filter((part) => !before.split(' ').includes(part))
          .join(' ');
  return { code, changed };
}

it('Cast and CastMany answer generated ballots with client codes, storing nothing refused', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(ballot, { minLength: 1, maxLength: 4 }), async (ballots) => {
      const [first] = ballots;
      if (first === undefined) return;
      const one = await observe(() => client.cast(first));
      const many = await observe(() => client.castMany(ballots));
      for (const outcome of [one, many]) {
        expect(clientCodes.has(outcome.code), grpc.status[outcome.code]).toBe(true);
        expect(outcome.changed).toBe(false);
      }
    }),
    fuzzParameters('fuzz grpc ballots', 60),
  );
});

it('refuses raw bytes that are no Ballot message with a client code, and keeps serving', async () => {
  const send = (payload: Buffer) =>
    new Promise<void>((resolve, reject) => {
      raw.makeUnaryRequest<Buffer, Buffer>(
        '/agora.election.v1.Ballots/Cast',
        (bytes) => bytes,
        (bytes) => bytes,
        payload,
        { deadline: Date.now() + 5_000 },
        (error) => {
          if (error === null) resolve();
          else reject(error);
        },
      );
    });
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
      const outcome = await observe(() => send(Buffer.from(bytes)));
      expect(clientCodes.has(outcome.code), grpc.status[outcome.code]).toBe(true);
      expect(outcome.changed).toBe(false);
    }),
    fuzzParameters('fuzz grpc bytes', 100),
  );
  expect(await client.cast({ ...validBallot, id: 'after-fuzz' })).toMatchObject({
    id: 'after-fuzz',
  });
});
