/**
 * The service registry: every Agora service, by name. `agora up`, `agora run`, `agora status`
 * and the deployment files all read this list.
 */
import { counterService } from './counter/service.js';
import { electionApiService } from './election/api.js';
import { electionGatewayService } from './election/gateway.js';
import { electionGrpcService } from './election/grpc-server.js';
import { electionSubscriberService } from './election/subscriber.js';
import { newsAgentService } from './news/agent.js';
import { newsNodeService } from './news/node.js';
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
