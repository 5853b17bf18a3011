/**
 * election-gateway's server: `POST /ingest/grpc` forwards to election-grpc (a single ballot
 * joins the others of the same moment in one `CastBatch`), `POST /ingest/redis` appends to the
 * `ballots` stream, `POST /ingest` picks one at random by weight. It answers 201 only once every
 * ballot is durable (committed, or in the stream).
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import type { FastifyReply } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { Type } from 'typebox';

import { AgoraError, ConflictError, ValidationError } from '../../platform/errors.js';
import { addApiIndex } from '../../platform/http/api-index.js';
import { createHttpServer, listen } from '../../platform/http/server.js';
import type { Logger } from '../../platform/logger.js';
import type { ContextOf, ServiceHandle } from '../../platform/service.js';
import { type Ballot, parseBallots, type Route } from '../ballot.js';
import { BallotsClient, isServiceError } from '../grpc-client.js';
import { ballotEntry, ballotsStream } from '../protocol.js';
import { CastBatcher } from './cast-batcher.js';
import { pickRoute } from './routing.js';
import type { electionGatewayService } from './service.js';

/** What a client gets back: the ids to retry with, and the route that took the ballots. */
interface IngestReply {
  ids: string[];
  route: Route;
}

/** The ballots were not stored, and retrying them with the same ids is safe. */
class IngestFailure extends AgoraError {}

/**
 * The ingest routes' OpenAPI description. The body is documented, not validated here:
 * `parseBallots` checks it and names the field at fault (`[3].partido`).
 */
const ingestSchema = {
  tags: ['ingest'],
  body: Type.Unknown({
    description:
      'One ballot or an array of them: `{ id?, sede, municipio, departamento, papeleta, partido }`, ' +
      'every field a string; a missing id is assigned.',
  }),
  response: {
    201: Type.Object({
      ids: Type.Array(Type.String(), { description: 'The ids to retry with, in request order.' }),
      route: Type.Union([Type.Literal('grpc'), Type.Literal('redis')]),
    }),
  },
};

export async function startElectionGateway(
  ctx: ContextOf<typeof electionGatewayService>,
): Promise<ServiceHandle> {
  const { config, broker, logger } = ctx;
  const counted = ingestMetrics(ctx.metrics);
  const client = new BallotsClient({
    address: config.grpcUrl,
    deadlineMs: config.grpcDeadlineMs,
  });
  const batcher = new CastBatcher(client, {
    onUnimplemented: () => {
      logger.warn(
        { address: client.address },
        'election-grpc has no CastBatch (an older version): single ballots go as one Cast each for now',
      );
    },
  });
  // Ballots are at most ~0.7 kB each; JSON escapes may make them longer, hence the margin.
  const app = await createHttpServer(ctx, {
    bodyLimit: Math.max(64 * 1024, config.maxBallots * 2048),
  });

  async function viaGrpc(ballots: readonly Ballot[]): Promise<void> {
    try {
      // One ballot joins the others of this turn in one CastBatch, answered ballot by ballot;
      // an array is one CastMany stream, stored in batches, all or nothing per batch.
      if (ballots.length === 1 && ballots[0] !== undefined) await batcher.cast(ballots[0]);
      else await client.castMany(ballots);
    } catch (error) {
      throw grpcFailure(error, client.address, logger);
    }
  }

  async function viaRedis(ballots: readonly Ballot[]): Promise<void> {
    // Every append is awaited, failed or not, so the answer never comes while one is in flight.
    const outcomes = await Promise.allSettled(
      ballots.map((ballot) => broker.append(ballotsStream, ballotEntry(ballot))),
    );
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) {
      logger.debug({ err: failed.reason }, 'ballots not appended');
      throw new IngestFailure(
        'broker_unavailable',
        503,
        `The ballots were not queued: Redis at ${broker.location} is not answering. Retry with the same ids.`,
      );
    }
  }

  async function ingest(body: unknown, route: Route, reply: FastifyReply) {
    const ballots = parseBallots(body, config.maxBallots);
    const ids = ballots.map((ballot) => ballot.id);
    try {
      await (route === 'grpc' ? viaGrpc(ballots) : viaRedis(ballots));
    } catch (error) {
      if (!(error instanceof IngestFailure)) throw error;
      counted(route, 'failed', ballots.length);
      throw new IngestFailure(error.code, error.status, error.message, {
        cause: error,
        details: { ids },
      });
    }
    counted(route, 'accepted', ballots.length);
    const answer: IngestReply = { ids, route };
    return reply.status(201).send(answer);
  }

  addApiIndex(app, {
    service: ctx.name,
    description:
      'Ballot ingest of the election pipeline: POST ballots, stored through gRPC or queued on Redis.',
    links: { ingest: '/ingest', grpc: '/ingest/grpc', redis: '/ingest/redis' },
    icon: { color: '#1d4ed8', glyph: 'G' },
  });
  const route = (summary: string) => ({ schema: { ...ingestSchema, summary } });
  app.post('/ingest/grpc', route('Store ballots through election-grpc'), (request, reply) =>
    ingest(request.body, 'grpc', reply),
  );
  app.post('/ingest/redis', route('Queue ballots on the ballots stream'), (request, reply) =>
    ingest(request.body, 'redis', reply),
  );
  app.post('/ingest', route('Either route, picked by ELECTION_ROUTE_WEIGHTS'), (request, reply) =>
    ingest(request.body, pickRoute(config.routeWeights), reply),
  );

  const url = await listen(app, ctx.host, ctx.port);
  logger.info({ grpc: client.address, weights: config.routeWeights }, 'election-gateway ready');
  return {
    url,
    stop: async () => {
      await app.close();
      client.close();
    },
  };
}

/** Turns a gRPC error into the answer the HTTP client gets. */
function grpcFailure(error: unknown, address: string, logger: Logger): Error {
  if (!isServiceError(error)) return error instanceof Error ? error : new Error(String(error));
  logger.debug({ err: error }, 'gRPC call failed');
  switch (error.code) {
    case grpcStatus.INVALID_ARGUMENT:
    case grpcStatus.RESOURCE_EXHAUSTED:
      return new ValidationError(error.details);
    case grpcStatus.ALREADY_EXISTS:
      return new ConflictError('ballot_conflict', error.details);
    case grpcStatus.UNAVAILABLE:
    case grpcStatus.DEADLINE_EXCEEDED:
    case grpcStatus.CANCELLED:
      return new IngestFailure(
        'grpc_unavailable',
        503,
        `The ballots were not stored: the gRPC ballot server at ${address} ${
          error.code === grpcStatus.DEADLINE_EXCEEDED ? 'did not answer in time' : 'is unavailable'
        } (${error.details}). Retry with the same ids.`,
      );
    default:
      return new IngestFailure(
        'grpc_failed',
        502,
        `The gRPC ballot server at ${address} answered ${grpcStatus[error.code]}: ${error.details}`,
      );
  }
}

function ingestMetrics(registry: Registry) {
  const ballots = new Counter({
    name: 'election_gateway_ballots_total',
    help: 'Ballots the gateway answered for, by route and outcome (accepted = durable).',
    labelNames: ['route', 'outcome'],
    registers: [registry],
  });
  return (route: Route, outcome: 'accepted' | 'failed', count: number) => {
    ballots.inc({ route, outcome }, count);
  };
}
