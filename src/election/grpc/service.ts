/**
 * election-grpc: the gRPC route of seed 004. `Cast` stores one ballot, `CastMany` a client
 * stream of them, each answered only once Postgres committed; the standard
 * `grpc.health.v1.Health` says SERVING once the schema is in place. Its HTTP admin port serves
 * /healthz, /readyz and /metrics. This is its definition; `server.ts` is its code.
 */
import { settings } from '../../platform/config.js';
import { defineService, type ServiceHandle } from '../../platform/service.js';
import { electionMigrations } from '../migrations.js';
import { defaultGrpcPort } from '../protocol.js';

const grpcSettings = {
  maxStreamBallots: settings.integer(
    'ELECTION_GRPC_MAX_STREAM',
    { min: 1, max: 1_000_000 },
    { default: 10_000, description: 'Most ballots one CastMany stream may carry.' },
  ),
  batchSize: settings.integer(
    'ELECTION_GRPC_BATCH_SIZE',
    { min: 1, max: 10_000 },
    { default: 1_000, description: 'Most ballots of a CastMany stream stored per transaction.' },
  ),
  stopTimeoutMs: settings.integer(
    'ELECTION_GRPC_STOP_TIMEOUT_MS',
    { min: 100, max: 600_000 },
    { default: 5_000, description: 'How long stopping waits for calls in flight.' },
  ),
};

export const electionGrpcService = defineService({
  name: 'election-grpc',
  system: 'election',
  description: 'gRPC ballot ingest (Cast, CastMany) into Postgres; standard gRPC health',
  defaultPort: defaultGrpcPort,
  admin: { variable: 'ELECTION_GRPC_ADMIN_PORT', defaultPort: 3003 },
  needs: ['broker', 'sql'],
  migrations: electionMigrations,
  settings: grpcSettings,

  async start(ctx): Promise<ServiceHandle> {
    const { startElectionGrpc } = await import('./server.js');
    return startElectionGrpc(ctx);
  },
});
