import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { Readiness } from '../../platform/health.js';
import { createHttpServer, type HttpServer } from '../../platform/http/server.js';
import { createLogger } from '../../platform/logger.js';
import { createMetricsRegistry } from '../../platform/metrics.js';
import { serveDashboard } from './static.js';

let app: HttpServer | undefined;
let dir: string | undefined;

async function serverFor(files: Record<string, string>): Promise<HttpServer> {
  dir = await mkdtemp(join(tmpdir(), 'agora-dashboard-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  app = await createHttpServer({
    name: 'election-api',
    version: 'test',
    logger: createLogger({ level: 'silent' }),
    metrics: createMetricsRegistry('test'),
    readiness: new Readiness(),
  });
  await serveDashboard(app, dir);
  return app;
}

afterEach(async () => {
  await app?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('serveDashboard', () => {
  it('serves index.html at / and fingerprinted assets cached for good', async () => {
    const server = await serverFor({
      'index.html': '<div id="root"></div>',
      'assets/index-abc.js': 'console.log(1)',
    });
    const page = await server.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<div id="root">');
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = await server.inject('/assets/index-abc.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await server.inject('/assets/missing.js')).statusCode).toBe(404);
  });

  it('says how to build the dashboard when it was never built', async () => {
    const server = await serverFor({});
    const page = await server.inject('/');
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('npm run build');
  });
});
