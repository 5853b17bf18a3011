/**
 * The service registry: every Agora service, by name. `agora up`, `agora run`, `agora status`
 * and the deployment files all read this list.
 */
import { counterService } from './counter/service.js';
import { electionApiService } from './election/api/service.js';
import { electionGatewayService } from './election/gateway/service.js';
import { electionGrpcService } from './election/grpc/service.js';
import { electionSubscriberService } from './election/subscriber/service.js';
import { newsAgentService } from './news/agent/service.js';
import { newsNodeService } from './news/node/service.js';
import type { ServiceDefinition } from './platform/service.js';
import { tasksService } from './tasks/service.js';
import { resultService } from './voting/result.js';
import { voteService } from './voting/vote.js';
import { workerService } from './voting/worker.js';

export const services: readonly ServiceDefinition[] = [
  counterService,
  voteService,
  workerService,
  resultService,
  electionApiService,
  electionGatewayService,
  electionGrpcService,
  electionSubscriberService,
  newsAgentService,
  newsNodeService,
  tasksService,
];

export function findService(name: string): ServiceDefinition | undefined {
  return services.find((service) => service.name === name);
}
