/**
 * The election profile in containers: the dashboard answers on its published port, and
 * `agora load election` (run from the image on the back network, where it reaches the gateway,
 * the gRPC server and Postgres by name) sends ballots over the gateway's gRPC and Redis routes
 * and straight to gRPC, and its verification against Postgres passes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ComposeProject } from '../../support/compose-project.js';
import { stopContainer } from '../../support/containers.js';
import { bringUp, readOnlyRun, runBeside } from './profile.js';

const services = ['election-api', 'election-gateway', 'election-grpc', 'election-subscriber'];
const project = new ComposeProject(['election']);

beforeAll(async () => {
  await bringUp(project, 2 + services.length);
});

afterAll(() => project.down());

describe('election profile in containers', () => {
  it('serves the dashboard on its published port', async () => {
    const response = await fetch(`${await project.url('election-api', 3000)}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/<html/i);
  });

  it('passes the verification of agora load election over every route', async () => {
    const load = await runBeside(project, 'election-api', [
      'load',
      'election',
      '--rate',
      '30',
      '--duration',
      '20s',
      '--no-live',
    ]);
    const exit = await load.exited;
    process.stderr.write(`${load.output()}\n`);
    expect(load.output()).toMatch(/verification: ok/);
    for (const route of ['gateway-grpc', 'gateway-redis', 'grpc-direct']) {
      expect(load.output()).toContain(route);
    }
    expect(exit.code).toBe(0);
  });

  it.each(services)('runs %s with a read-only root file system', async (service) => {
    expect(await readOnlyRun(project, service)).toBe(0);
  });

  it('stops every service gracefully on docker stop (SIGTERM), exit code 0', async () => {
    for (const service of services) {
      expect(await stopContainer(await project.container(service), 15), service).toBe(0);
    }
  });
});
