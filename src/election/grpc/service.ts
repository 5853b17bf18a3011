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
    {
      default: 5_000,
      description: 'Most ballots one CastMany stream or CastBatch call may carry.',
    },
  ),
  callTimeoutMs: settings.integer(
    'ELECTION_GRPC_CALL_TIMEOUT_MS',
    { min: 100, max: 3_600_000 },
    {
      default: 30_000,
      description:
        "The server's deadline for one call, whatever the client's: then DEADLINE_EXCEEDED.",
    },
  ),
  maxConcurrentStreams: settings.integer(
    'ELECTION_GRPC_MAX_CONCURRENT_STREAMS',
    { min: 1, max: 100_000 },
    { default: 100, description: 'Most calls open at once on one client connection.' },
  ),
  maxMessageBytes: settings.integer(
    'ELECTION_GRPC_MAX_MESSAGE_BYTES',
    { min: 1_024, max: 64 * 1024 * 1024 },
    { default: 64 * 1024, description: 'Largest message received; larger: RESOURCE_EXHAUSTED.' },
  ),
  connectionIdleMs: settings.integer(
    'ELECTION_GRPC_CONNECTION_IDLE_MS',
    { min: 1_000, max: 86_400_000 },
    { default: 300_000, description: 'A connection with no call for this long is closed.' },
  ),
  connectionAgeMs: settings.integer(
    'ELECTION_GRPC_CONNECTION_AGE_MS',
    { min: 1_000, max: 86_400_000 },
    {
      default: 3_600_000,
      description: 'A connection is asked to go away at this age (calls get the call deadline).',
    },
  ),
  keepaliveMs: settings.integer(
    'ELECTION_GRPC_KEEPALIVE_MS',
    { min: 1_000, max: 86_400_000 },
    {
      default: 60_000,
      description: 'How often the server pings a connection to find a dead peer.',
    },
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
