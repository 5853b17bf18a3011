import { describe, expect, it } from 'vitest';

import { settings } from '../platform/config.js';
import { defineService, type ServiceDefinition } from '../platform/service.js';
import { healthPortOf, healthPorts } from './health.js';

function service(name: string, defaultPort: number, adminPort?: number): ServiceDefinition {
  return defineService({
    name,
    system: 'counter',
    description: name,
    defaultPort,
    ...(adminPort === undefined
      ? {}
      : { admin: { variable: 'TEST_ADMIN_PORT', defaultPort: adminPort } }),
    portAliases: ['BIND_PORT'],
    needs: [],
    settings: { unused: settings.string('UNUSED') },
    start: () => Promise.reject(new Error('not started in this test')),
  });
}

const web = service('web', 5000);
const grpc = service('grpc', 50051, 3003);
const registry = [web, grpc];

describe('health ports', () => {
  it('are the admin port of a service that has one, else its own port', () => {
    expect(healthPortOf(grpc)).toBe(3003);
    expect(healthPortOf(web)).toBe(5000);
  });

  it('follow PORT and its aliases for a named service without an admin port', () => {
    expect(healthPorts(registry, web, { PORT: '6000' })).toEqual([6000]);
    expect(healthPorts(registry, web, { BIND_PORT: '6001' })).toEqual([6001]);
    // A fixed admin port goes with the default port; on another, the admin port follows it.
    expect(healthPorts(registry, grpc, { PORT: '6000' })).toEqual([6100]);
    expect(healthPorts(registry, grpc, { PORT: '50051' })).toEqual([3003]);
  });

  it('follow the admin port variable of a service that declares one', () => {
    expect(healthPortOf(grpc, { TEST_ADMIN_PORT: '4004' })).toBe(4004);
    expect(healthPorts(registry, grpc, { TEST_ADMIN_PORT: '4004' })).toEqual([4004]);
  });

  it('are PORT, the admin port that follows it and every health port when none is named, once each', () => {
    expect(healthPorts(registry, undefined, {})).toEqual([5000, 3003]);
    expect(healthPorts(registry, undefined, { PORT: '5000' })).toEqual([5000, 5100, 3003]);
    expect(healthPorts(registry, undefined, { PORT: '7000' })).toEqual([7000, 7100, 5000, 3003]);
    // Past 65535 there is no admin port to follow; the others are still asked.
    expect(healthPorts(registry, undefined, { PORT: '65500' })).toEqual([65500, 5000, 3003]);
  });
});
