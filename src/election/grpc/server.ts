/**
 * election-grpc's server: `Cast` stores one ballot (group-committed with the calls of the same
 * moment), `CastMany` a client stream of them, each answered only once Postgres committed; the
 * standard `grpc.health.v1.Health` says SERVING once the schema is in place.
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { Counter, type Registry } from 'prom-client';

import type { Logger } from '../../platform/logger.js';
import type { ContextOf, ServiceHandle } from '../../platform/service.js';
import { type Ballot, parseBallot } from '../ballot.js';
import { groupedBallotStore, storeBallots, type StoreResult } from '../ballot-store.js';
import {
  type BallotMessage,
  ballotsService,
  type CastManyReply,
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
        const { stored } = await castOne([ballot]);
        counted.ballots(stored.length, 1 - stored.length);
        counted.call('Cast', grpc.status.OK);
        callback(null, { id: ballot.id, duplicate: stored.length === 0 });
      } catch (error) {
        callback(refuse('Cast', error));
      }
    })();
  };

  const castMany: grpc.handleClientStreamingCall<BallotMessage, CastManyReply> = (
    call,
    callback,
  ) => {
    // Every message is checked before any is stored, so a bad one leaves nothing written.
    const ballots: Ballot[] = [];
    let answered = false;
    const answer = (error: unknown, reply?: CastManyReply) => {
      if (answered) return;
      answered = true;
      if (reply === undefined) callback(refuse('CastMany', error));
      else callback(null, reply);
    };
    call.on('data', (message: BallotMessage) => {
      if (answered) return;
      try {
        if (ballots.length >= config.maxStreamBallots) {
          throw new GrpcRefusal(
            grpc.status.RESOURCE_EXHAUSTED,
            `A CastMany stream may carry at most ${config.maxStreamBallots} ballots.`,
          );
        }
        ballots.push(parseBallot(fieldsOf(message), `[${ballots.length}]`));
      } catch (error) {
        answer(error);
      }
    });
    call.on('error', (error) => {
      // The client went away (cancelled, deadline): nobody is left to answer or to store for.
      logger.debug({ err: error }, 'CastMany stream broken by the client');
      answered = true;
    });
    call.on('end', () => {
      if (answered) return;
      void (async () => {
        try {
          let stored = 0;
          for (let start = 0; start < ballots.length; start += config.batchSize) {
            const result = await store(ballots.slice(start, start + config.batchSize));
            stored += result.stored.length;
          }
          counted.ballots(stored, ballots.length - stored);
          counted.call('CastMany', grpc.status.OK);
          answer(undefined, {
            stored,
            duplicates: ballots.length - stored,
            ids: ballots.map((ballot) => ballot.id),
          });
        } catch (error) {
          answer(error);
        }
      })();
    });
  };

  const server = new grpc.Server();
  server.addService(ballotsService().service, { Cast: cast, CastMany: castMany });
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
