/**
 * The service registry: every Agora service, by name. `agora up`, `agora run`, `agora status`
 * and the deployment files all read this list.
 */
import { counterService } from './counter/service.js';
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
  tasksService,
];

export function findService(name: string): ServiceDefinition | undefined {
  return services.find((service) => service.name === name);
}
