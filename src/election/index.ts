/** The election system (seed 004): ballot ingest over gRPC and a Redis stream, API, dashboard. */
import { defineSystem } from '../platform/system.js';
import { electionApiService } from './api/service.js';
import { electionGatewayService } from './gateway/service.js';
import { electionGrpcService } from './grpc/service.js';
import { ballotsStream, deadLetterStream, subscribersGroup } from './protocol.js';
import { electionSubscriberService } from './subscriber/service.js';

export const election = defineSystem({
  name: 'election',
  description: 'Ballot ingest over gRPC and a Redis stream, results API and React dashboard',
  services: [
    electionApiService,
    electionGatewayService,
    electionGrpcService,
    electionSubscriberService,
  ],
  loadProfile: async () => (await import('./load/profile.js')).electionLoadProfile,
  console: { queues: [{ stream: ballotsStream, group: subscribersGroup, deadLetterStream }] },
});
