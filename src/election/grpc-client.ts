/**
 * A long-lived client of election-grpc: one channel that reconnects by itself (quickly, so a
 * restarted server is found within a couple of seconds), a deadline on every call, and promises
 * instead of callbacks. The gateway uses it; so can any other Node client.
 */
import * as grpc from '@grpc/grpc-js';

import type { Ballot } from './ballot.js';
import {
  type BallotMessage,
  ballotsService,
  type CastBatchReply,
  type CastBatchRequest,
  type CastManyReply,
  type CastOutcome,
  type CastReply,
} from './grpc-proto.js';
import { defaultGrpcAddress } from './protocol.js';

export interface BallotsClientOptions {
  /** `host:port`; a `grpc://` or `http://` prefix is accepted and ignored. */
  address?: string;
  /** Each call fails with DEADLINE_EXCEEDED after this long. */
  deadlineMs?: number;
}

const channelOptions: grpc.ChannelOptions = {
  // grpc-js waits up to 120 s between reconnects by default: far too long to find a restart.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.keepalive_time_ms': 30_000,
};

export class BallotsClient {
  readonly address: string;
  readonly #client: grpc.Client;
  readonly #deadlineMs: number;
  readonly #service = ballotsService().service;

  constructor(options: BallotsClientOptions = {}) {
    this.address = grpcAddressOf(options.address ?? defaultGrpcAddress);
    this.#deadlineMs = options.deadlineMs ?? 5_000;
    this.#client = new grpc.Client(this.address, grpc.credentials.createInsecure(), channelOptions);
  }

  /** Stores one ballot; resolves once committed, with the id and whether it was a duplicate. */
  cast(ballot: Ballot): Promise<CastReply> {
    return this.#unary<CastReply>('Cast', messageOf(ballot));
  }

  /**
   * Stores the ballots in one CastBatch, each on its own: resolves once all are settled, with
   * one outcome per ballot (code 0, or the status a Cast of it would have failed with).
   */
  async castBatch(ballots: readonly Ballot[]): Promise<CastOutcome[]> {
    const reply = await this.#unary<CastBatchReply>('CastBatch', {
      ballots: ballots.map(messageOf),
    });
    if (reply.outcomes.length !== ballots.length) {
      throw new Error(`CastBatch answered ${reply.outcomes.length} of ${ballots.length}`);
    }
    return reply.outcomes;
  }

  /** Streams the ballots in one CastMany; resolves once all are committed. */
  castMany(ballots: readonly Ballot[]): Promise<CastManyReply> {
    const method = this.#method('CastMany');
    return new Promise((resolve, reject) => {
      const call = this.#client.makeClientStreamRequest<BallotMessage, CastManyReply>(
        method.path,
        (message) => method.requestSerialize(message),
        (buffer) => method.responseDeserialize(buffer) as CastManyReply,
        { deadline: this.#deadline() },
        (error, reply) => {
          if (error !== null || reply === undefined) reject(error ?? new Error('no reply'));
          else resolve(reply);
        },
      );
      // Writes queue in the call; the reply (or the error) settles the promise.
      for (const ballot of ballots) call.write(messageOf(ballot));
      call.end();
    });
  }

  close(): void {
    this.#client.close();
  }

  /** One unary call with the client's deadline; rejects with the call's ServiceError. */
  #unary<Reply>(
    name: 'Cast' | 'CastBatch',
    request: BallotMessage | CastBatchRequest,
  ): Promise<Reply> {
    const method = this.#method(name);
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest<BallotMessage | CastBatchRequest, Reply>(
        method.path,
        (message) => method.requestSerialize(message),
        (buffer) => method.responseDeserialize(buffer) as Reply,
        request,
        { deadline: this.#deadline() },
        (error, reply) => {
          if (error !== null || reply === undefined) reject(error ?? new Error('no reply'));
          else resolve(reply);
        },
      );
    });
  }

  #deadline(): Date {
    return new Date(Date.now() + this.#deadlineMs);
  }

  #method(name: 'Cast' | 'CastMany' | 'CastBatch') {
    const method = this.#service[name];
    if (method === undefined) throw new Error(`election.proto has no ${name}`);
    return method;
  }
}

/**
 * `grpc://host:port` or `http://host:port` -> `host:port`, as AGORA_<SERVICE>_URL values are
 * URLs; grpc-js's own targets (`host:port`, `dns:///host:port`, `unix:...`) pass unchanged.
 */
export function grpcAddressOf(raw: string): string {
  const url = /^(?:grpc|http):\/\/([^/]+)\/?$/i.exec(raw.trim());
  return url?.[1] ?? raw.trim();
}

/** True for the gRPC errors where the ballot may simply be sent again later. */
export function isRetryableGrpcError(error: unknown): error is grpc.ServiceError {
  return (
    isServiceError(error) &&
    (error.code === grpc.status.UNAVAILABLE || error.code === grpc.status.DEADLINE_EXCEEDED)
  );
}

export function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && 'code' in error && typeof error.code === 'number';
}

function messageOf(ballot: Ballot): BallotMessage {
  return {
    id: ballot.id,
    sede: ballot.sede,
    municipio: ballot.municipio,
    departamento: ballot.departamento,
    papeleta: ballot.papeleta,
    partido: ballot.partido,
  };
}
