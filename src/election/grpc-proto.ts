/**
 * The `agora.election.v1.Ballots` gRPC service, loaded at run time from `election.proto`
 * (tsc does not copy it into dist/, so it is looked up beside this file, then in the source
 * tree from the package root), and the TypeScript shapes of its messages.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

import { packageDir } from '../platform/package-root.js';

/** A `Ballot` message as proto-loader gives it: every string present, "" when unset. */
export interface BallotMessage {
  id: string;
  sede: string;
  municipio: string;
  departamento: string;
  papeleta: string;
  partido: string;
}

export interface CastReply {
  id: string;
  duplicate: boolean;
}

export interface CastManyReply {
  stored: number;
  duplicates: number;
  ids: string[];
}

export interface CastBatchRequest {
  ballots: BallotMessage[];
}

/** One ballot's outcome in a `CastBatchReply`: `code` 0 (OK) or the status Cast would give. */
export interface CastOutcome {
  id: string;
  duplicate: boolean;
  code: grpc.status;
  details: string;
}

export interface CastBatchReply {
  outcomes: CastOutcome[];
}

/**
 * Where `election.proto` is: beside this module (in src/, or in dist/cli/ where the bundle puts
 * it), else in the checkout's src/ (run from tsc's dist/src/).
 */
export function electionProtoPath(): string {
  const candidates = [
    fileURLToPath(new URL('./election.proto', import.meta.url)),
    join(packageDir, 'src', 'election', 'election.proto'),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(`election.proto not found; looked at ${candidates.join(' and ')}`);
  }
  return found;
}

let cached: grpc.ServiceClientConstructor | undefined;

/** The Ballots service constructor; its `.service` is the definition a server adds. */
export function ballotsService(): grpc.ServiceClientConstructor {
  if (cached !== undefined) return cached;
  const definition = loadSync(electionProtoPath(), {
    // Field names as in the .proto (the seed's Spanish names), never camel-cased.
    keepCase: true,
    defaults: true,
    longs: Number,
    enums: String,
  });
  const loaded = grpc.loadPackageDefinition(definition);
  const service = lookup(loaded, ['agora', 'election', 'v1', 'Ballots']);
  if (!isServiceConstructor(service)) {
    throw new Error('election.proto does not define agora.election.v1.Ballots');
  }
  tolerateMalformedRequests(service.service);
  cached = service;
  return service;
}

/**
 * grpc-js answers bytes that are no valid protobuf with INTERNAL, a server fault. They are the
 * client's: such a message decodes as one with no fields, which the handler refuses with
 * INVALID_ARGUMENT naming the first missing field.
 */
function tolerateMalformedRequests(definition: grpc.ServiceDefinition): void {
  for (const method of Object.values(definition)) {
    const decode = method.requestDeserialize;
    method.requestDeserialize = (bytes: Buffer): unknown => {
      try {
        return decode(bytes);
      } catch {
        return {};
      }
    };
  }
}

function isServiceConstructor(value: unknown): value is grpc.ServiceClientConstructor {
  return typeof value === 'function' && 'service' in value && 'serviceName' in value;
}

function lookup(root: grpc.GrpcObject, path: readonly string[]): unknown {
  let node: unknown = root;
  for (const part of path) {
    if ((typeof node !== 'object' && typeof node !== 'function') || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
