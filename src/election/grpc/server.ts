/**
 * election-grpc's server: `Cast` stores one ballot (group-committed with the calls of the same
 * moment), `CastBatch` independent ballots through the same group commit, each with its own
 * outcome, `CastMany` a client stream of them, each answered only once Postgres committed; the
 * standard `grpc.health.v1.Health` says SERVING once the schema is in place.
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { Counter, type Registry } from 'prom-client';

import { withinDeadline } from '../../platform/deadline.js';
import type { Logger } from '../../platform/logger.js';
import type { ContextOf, ServiceHandle } from '../../platform/service.js';
import { type Ballot, parseBallot } from '../ballot.js';
import { groupedBallotStore, storeBallots, type StoreResult } from '../ballot-store.js';
import {
  type BallotMessage,
  ballotsService,
  type CastBatchReply,
  type CastBatchRequest,
  type CastManyReply,
  type CastOutcome,
  type CastReply,
} from '../grpc-proto.js';
import { grpcServiceName } from '../protocol.js';
import type { electionGrpcService } from './service.js';
import { GrpcRefusal, serviceError, toGrpcStatus } from './status.js';

export async function startElectionGrpc(
  ctx: ContextOf<typeof electionGrpcService>,
): Promise<ServiceHandle> {
  const { config, logger, signal } = ctx;
  const counted = callMetrics(ctx.metrics);
  const health = new HealthImplementation({
    '': 'NOT_SERVING',
    [grpcServiceName]: 'NOT_SERVING',
  });
  const store = (ballots: readonly Ballot[]): Promise<StoreResult> =>
    storeBallots(ctx.sql, ctx.broker, ballots, 'grpc', { logger });

  const callExpired = () =>
    new GrpcRefusal(
      grpc.status.DEADLINE_EXCEEDED,
      `A call may last at most ${config.callTimeoutMs} ms on this server.`,
    );

  const castOne = groupedBallotStore(ctx.sql, ctx.broker, 'grpc', { logger });

  function refuse(method: string, error: unknown): Partial<grpc.ServiceError> {
    const failure = toGrpcStatus(error);
    if (failure.unexpected) logger.error({ err: error, method }, 'gRPC call failed');
    else
      logger.debug({ method, code: failure.code, details: failure.details }, 'gRPC call refused');
    counted.call(method, failure.code);
    return serviceError(failure);
  }

  const cast: grpc.handleUnaryCall<BallotMessage, CastReply> = (call, callback) => {
    void (async () => {
      try {
        const ballot = parseBallot(fieldsOf(call.request));
        const { stored } = await withinDeadline(
          castOne([ballot]),
          config.callTimeoutMs,
          callExpired,
        );
        counted.ballots(stored.length, 1 - stored.length);
        counted.call('Cast', grpc.status.OK);
        callback(null, { id: ballot.id, duplicate: stored.length === 0 });
      } catch (error) {
        callback(refuse('Cast', error));
      }
    })();
  };

  /**
   * Each ballot goes through the same group commit as a `Cast` of its own, so it is stored,
   * a duplicate or refused by itself; the call waits for all of them.
   */
  const castBatch: grpc.handleUnaryCall<CastBatchRequest, CastBatchReply> = (call, callback) => {
    void (async () => {
      try {
        const messages = call.request.ballots;
        if (messages.length > config.maxStreamBallots) {
          throw new GrpcRefusal(
            grpc.status.RESOURCE_EXHAUSTED,
            `A CastBatch call may carry at most ${config.maxStreamBallots} ballots.`,
          );
        }
        const outcomes = await withinDeadline(
          Promise.all(messages.map(castOutcome)),
          config.callTimeoutMs,
          callExpired,
        );
        counted.call('CastBatch', grpc.status.OK);
        callback(null, { outcomes });
      } catch (error) {
        callback(refuse('CastBatch', error));
      }
    })();
  };

  /** What a `Cast` of this one ballot would have answered, as an outcome instead of a status. */
  async function castOutcome(message: BallotMessage): Promise<CastOutcome> {
    // A ballot refused before it had an id of its own is named by the id it was sent with.
    let id = message.id;
    try {
      const ballot = parseBallot(fieldsOf(message));
      id = ballot.id;
      const { stored } = await castOne([ballot]);
      counted.ballots(stored.length, 1 - stored.length);
      return { id, duplicate: stored.length === 0, code: grpc.status.OK, details: '' };
    } catch (error) {
      const failure = toGrpcStatus(error);
      if (failure.unexpected) logger.error({ err: error, method: 'CastBatch' }, 'ballot failed');
      return { id, duplicate: false, code: failure.code, details: failure.details };
    }
  }

  const castMany: grpc.handleClientStreamingCall<BallotMessage, CastManyReply> = (
    call,
    callback,
  ) => {
    // Stored in batches as the stream arrives: a full batch is committed while the stream is
    // paused, so memory holds one batch, not the stream. A bad message stores nothing of its
    // own batch; the batches before it stay committed, and the error says how many ballots.
    const ids: string[] = [];
    let batch: Ballot[] = [];
    let committed = 0;
    let stored = 0;
    let writing = Promise.resolve();
    let answered = false;
    /** A message was refused: nothing after it is read; the answer waits for the write. */
    let refused = false;
    const answer = (error: unknown, reply?: CastManyReply) => {
      if (answered) return;
      answered = true;
      clearTimeout(deadline);
      if (reply !== undefined) {
        callback(null, reply);
        return;
      }
      const refusal = refuse('CastMany', error);
      if (committed > 0) {
        refusal.details = `${refusal.details ?? ''} (the ${committed} ballots before it are stored)`;
      }
      callback(refusal);
    };
    const deadline = setTimeout(() => {
      answer(callExpired());
    }, config.callTimeoutMs);
    const flush = (): Promise<void> => {
      const ballots = batch;
      batch = [];
      if (ballots.length === 0) return writing;
      call.pause();
      writing = writing
        .then(async () => {
          if (answered) return;
          const result = await store(ballots);
          committed += ballots.length;
          stored += result.stored.length;
          call.resume();
        })
        .catch((error: unknown) => {
          answer(error);
        });
      return writing;
    };
    call.on('data', (message: BallotMessage) => {
      if (answered || refused) return;
      try {
        if (ids.length >= config.maxStreamBallots) {
          throw new GrpcRefusal(
            grpc.status.RESOURCE_EXHAUSTED,
            `A CastMany stream may carry at most ${config.maxStreamBallots} ballots.`,
          );
        }
        const ballot = parseBallot(fieldsOf(message), `[${ids.length}]`);
        ids.push(ballot.id);
        batch.push(ballot);
        if (batch.length >= config.batchSize) void flush();
      } catch (error) {
        // What is being written still commits; nothing after it is stored.
        refused = true;
        batch = [];
        void writing.then(() => {
          answer(error);
        });
      }
    });
    call.on('error', (error) => {
      // The client went away (cancelled, deadline): nobody is left to answer or to store for.
      logger.debug({ err: error }, 'CastMany stream broken by the client');
      answered = true;
      clearTimeout(deadline);
    });
    call.on('end', () => {
      if (answered || refused) return;
      void flush().then(() => {
        if (answered) return;
        counted.ballots(stored, ids.length - stored);
        counted.call('CastMany', grpc.status.OK);
        answer(undefined, { stored, duplicates: ids.length - stored, ids });
      });
    });
  };

  const server = new grpc.Server({
    'grpc.max_concurrent_streams': config.maxConcurrentStreams,
    'grpc.max_receive_message_length': config.maxMessageBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
    'grpc.max_connection_idle_ms': config.connectionIdleMs,
    'grpc.max_connection_age_ms': config.connectionAgeMs,
    // Calls in flight when a connection reaches its age get this long to finish.
    'grpc.max_connection_age_grace_ms': config.callTimeoutMs,
    'grpc.keepalive_time_ms': config.keepaliveMs,
    'grpc.keepalive_timeout_ms': 20_000,
  });
  server.addService(ballotsService().service, {
    Cast: cast,
    CastMany: castMany,
    CastBatch: castBatch,
  });
  health.addToServer(server);
  const grpcPort = await bind(server, ctx.host, ctx.port);

  // Health says SERVING once the schema is there; until then calls answer UNAVAILABLE.
  void ctx.schemaReady.then(() => {
    if (signal.aborted) return;
    health.setStatus('', 'SERVING');
    health.setStatus(grpcServiceName, 'SERVING');
  });

  const url = `grpc://${ctx.host.includes(':') ? `[${ctx.host}]` : ctx.host}:${grpcPort}`;
  logger.info({ url, admin: ctx.adminPort }, 'election-grpc listening');
  return {
    url,
    stop: async () => {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(grpcServiceName, 'NOT_SERVING');
      await shutdown(server, config.stopTimeoutMs, logger);
    },
  };
}

/** The message's fields; proto3 drops unknown fields, and an unset string arrives as "". */
function fieldsOf(message: BallotMessage): Record<string, string> {
  return {
    id: message.id,
    sede: message.sede,
    municipio: message.municipio,
    departamento: message.departamento,
    papeleta: message.papeleta,
    partido: message.partido,
  };
}

function bind(server: grpc.Server, host: string, port: number): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error === null) resolve(boundPort);
      else reject(error);
    });
  });
}

/** Lets calls in flight finish (their transactions commit and answer), then cuts the rest. */
async function shutdown(server: grpc.Server, timeoutMs: number, logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      logger.warn({ timeoutMs }, 'gRPC calls still running at the stop deadline: cancelled');
      server.forceShutdown();
      resolve();
    }, timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function callMetrics(registry: Registry) {
  const calls = new Counter({
    name: 'election_grpc_calls_total',
    help: 'gRPC calls answered, by method and status code.',
    labelNames: ['method', 'code'],
    registers: [registry],
  });
  const ballots = new Counter({
    name: 'election_grpc_ballots_total',
    help: 'Ballots received over gRPC: stored, or duplicate (an id already stored).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return {
    call: (method: string, code: grpc.status) => {
      calls.inc({ method, code: grpc.status[code] });
    },
    ballots: (stored: number, duplicates: number) => {
      if (stored > 0) ballots.inc({ outcome: 'stored' }, stored);
      if (duplicates > 0) ballots.inc({ outcome: 'duplicate' }, duplicates);
    },
  };
}
