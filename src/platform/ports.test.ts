import { describe, expect, it } from 'vitest';

import { settings } from './config.js';
import { ConfigError } from './errors.js';
import { adminPortOf, replicaAdminEnv } from './ports.js';
import { defineService, type ServiceDefinition } from './service.js';

function service(defaultPort: number, admin?: ServiceDefinition['admin']): ServiceDefinition {
  return defineService({
    name: 'web',
    system: 'counter',
    description: 'web',
    defaultPort,
    ...(admin === undefined ? {} : { admin }),
    needs: [],
    settings: { unused: settings.string('UNUSED') },
    start: () => Promise.reject(new Error('not started in this test')),
  });
}

const following = service(8080, { variable: 'WEB_ADMIN_PORT' });
const fixed = service(50051, { variable: 'WEB_ADMIN_PORT', defaultPort: 3003 });

describe('the admin port', () => {
  it('is absent for a service that declares none', () => {
    expect(adminPortOf(service(8090), {}, 8091)).toBeUndefined();
  });

  it("is the service's own port + 100, for every replica", () => {
    expect(adminPortOf(following, {})).toBe(8180);
    expect(adminPortOf(following, {}, 8081)).toBe(8181);
  });

  it('is the declared default on the default port, and own port + 100 on another', () => {
    expect(adminPortOf(fixed, {})).toBe(3003);
    expect(adminPortOf(fixed, {}, 50051)).toBe(3003);
    // A second replica must not take the first one's admin port.
    expect(adminPortOf(fixed, {}, 50052)).toBe(50152);
  });

  it('is what its variable says, on any port', () => {
    expect(adminPortOf(following, { WEB_ADMIN_PORT: '7001' }, 8081)).toBe(7001);
    expect(adminPortOf(fixed, { WEB_ADMIN_PORT: '7001' })).toBe(7001);
  });

  it('is any free port (0) when the service asks for any free port', () => {
    expect(adminPortOf(following, {}, 0)).toBe(0);
    expect(adminPortOf(fixed, {}, 0)).toBe(0);
  });

  it('is refused in one line naming the variable when own port + 100 is past 65535', () => {
    expect(() => adminPortOf(following, {}, 65_500)).toThrow(ConfigError);
    expect(() => adminPortOf(following, {}, 65_500)).toThrow(/set WEB_ADMIN_PORT$/);
    expect(adminPortOf(following, { WEB_ADMIN_PORT: '7001' }, 65_500)).toBe(7001);
    expect(() => adminPortOf(following, { WEB_ADMIN_PORT: 'x' })).toThrow(
      'WEB_ADMIN_PORT must be a port number from 1 to 65535, got "x"',
    );
  });
});

describe("a replica's admin port", () => {
  it('counts up from an explicit variable, as replicas count up from their port', () => {
    const env = { WEB_ADMIN_PORT: '7001' };
    expect(replicaAdminEnv(following, env, 1)).toEqual({});
    expect(replicaAdminEnv(following, env, 2)).toEqual({ WEB_ADMIN_PORT: '7002' });
    expect(adminPortOf(following, { ...env, ...replicaAdminEnv(following, env, 3) }, 8082)).toBe(
      7003,
    );
  });

  it('is left to the service when the variable is unset', () => {
    expect(replicaAdminEnv(following, {}, 2)).toEqual({});
    expect(replicaAdminEnv(service(8090), { WEB_ADMIN_PORT: '7001' }, 2)).toEqual({});
  });
});
