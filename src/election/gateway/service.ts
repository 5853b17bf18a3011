/**
 * election-gateway: the HTTP ingress of seed 004. `POST /ingest/grpc` forwards to election-grpc,
 * `POST /ingest/redis` appends to the `ballots` stream, `POST /ingest` picks one at random by
 * weight (the seed's ingress split). The body is the seed's ballot JSON or an array of them; the
 * answer is 201 only once every ballot is durable (committed, or in the stream). This is its
 * definition; `server.ts` is its code.
 */
import { settings } from '../../platform/config.js';
import { defineService, type ServiceHandle } from '../../platform/service.js';
import { defaultGrpcAddress } from '../protocol.js';
import { routeWeightsSetting } from './routing.js';

const gatewaySettings = {
  grpcUrl: settings.string('AGORA_ELECTION_GRPC_URL', {
    default: defaultGrpcAddress,
    description: 'Where the gateway finds election-grpc (host:port or grpc://host:port).',
  }),
  routeWeights: routeWeightsSetting('ELECTION_ROUTE_WEIGHTS'),
  maxBallots: settings.integer(
    'ELECTION_MAX_BALLOTS',
    { min: 1, max: 10_000 },
    { default: 1_000, description: 'Most ballots in one ingest request (a JSON array).' },
  ),
  grpcDeadlineMs: settings.integer(
    'ELECTION_GRPC_DEADLINE_MS',
    { min: 100, max: 600_000 },
    { default: 5_000, description: 'How long the gateway waits for election-grpc per request.' },
  ),
};

export const electionGatewayService = defineService({
  name: 'election-gateway',
  system: 'election',
  description: 'HTTP ballot ingest: forwards over gRPC or appends to the ballots stream',
  defaultPort: 3001,
  admin: { variable: 'ELECTION_GATEWAY_ADMIN_PORT', defaultPort: 3005 },
  scaling: 'shared-port',
  needs: ['broker'],
  settings: gatewaySettings,

  async start(ctx): Promise<ServiceHandle> {
    const { startElectionGateway } = await import('./server.js');
    return startElectionGateway(ctx);
  },
});
