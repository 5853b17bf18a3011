/**
 * The registry: every Agora system, and through them every service, by name. `agora up`,
 * `agora run`, `agora status`, `agora load` and the deployment checks all read this list.
 */
import { counter } from './counter/index.js';
import { election } from './election/index.js';
import { news } from './news/index.js';
import type { ServiceDefinition } from './platform/service.js';
import type { SystemDefinition } from './platform/system.js';
import { tasks } from './tasks/index.js';
import { voting } from './voting/index.js';

export const systems: readonly SystemDefinition[] = [counter, voting, election, news, tasks];

export const services: readonly ServiceDefinition[] = systems.flatMap((system) => system.services);

export function findService(name: string): ServiceDefinition | undefined {
  return services.find((service) => service.name === name);
}
