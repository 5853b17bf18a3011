/**
 * A service with an admin port keeps its monitoring there: its own port answers /healthz and a
 * summarized /readyz but 404 on /metrics, and the admin port serves /healthz, the full /readyz
 * and /metrics, with the requests of both ports in one registry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { settings } from '../../src/platform/config.js';
import { createHttpServer, listen } from '../../src/platform/http/server.js';
import { createLogger } from '../../src/platform/logger.js';
import { type RunningService, startService } from '../../src/platform/runtime.js';
import { defineService } from '../../src/platform/service.js';
import { freePort, waitFor } from '../support/processes.js';

const internalError = 'connect ECONNREFUSED 10.1.2.3:6379';

const greeter = defineService({
  name: 'greeter',
  system: 'counter',
  description: 'says hello',
  defaultPort: 5999,
  admin: { variable: 'GREETER_ADMIN_PORT' },
  needs: [],
  settings: { unused: settings.string('GREETER_UNUSED') },
  async start(ctx) {
    ctx.readiness.add('upstream', () => Promise.reject(new Error(internalError)));
    const app = await createHttpServer(ctx);
    app.get('/hello', { schema: { summary: 'Says hello' } }, () => ({ hello: 'world' }));
    const url = await listen(app, ctx.host, ctx.port);
    return { url, stop: () => app.close() };
  },
});

let service: RunningService;
let admin: string;

beforeAll(async () => {
  service = await startService(greeter, {
    env: {},
    logger: createLogger({ level: 'silent' }),
    backends: { describe: () => [], close: () => Promise.resolve() },
    host: '127.0.0.1',
    port: 0,
  });
  if (service.adminUrl === undefined) throw new Error('no admin port');
  admin = service.adminUrl;
});

afterAll(() => service.stop());

describe('a service with an admin port', () => {
  it('answers 404 on /metrics on its own port, as on any unknown route', async () => {
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: 'not_found', message: 'No route for GET /metrics' },
    });
    const document = (await (await fetch(`${service.url}/docs/json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/hello', '/healthz', '/readyz']),
    );
    expect(Object.keys(document.paths)).not.toContain('/metrics');
  });

  it('keeps /healthz and a /readyz that names no internal host on its own port', async () => {
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = JSON.stringify(await ready.json());
    expect(body).toContain('"upstream":"waiting"');
    expect(body).not.toContain('10.1.2.3');
  });

  it('serves /healthz, the full /readyz and /metrics on the admin port', async () => {
    expect(service.healthUrl).toBe(admin);
    expect((await fetch(`${admin}/healthz`)).status).toBe(200);
    const ready = await fetch(`${admin}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { upstream: internalError } });
    const metrics = await fetch(`${admin}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it("counts its own port's requests in the registry the admin port serves", async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${service.url}/hello`)).status).toBe(200);
    const text = await (await fetch(`${admin}/metrics`)).text();
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{[^}]*route="\/hello"[^}]*status_code="200"[^}]*\} 3$/m,
    );
    expect(text).toMatch(/^process_cpu_user_seconds_total/m);
  });
});

describe('the admin port while the service starts', () => {
  it('answers /readyz 503 "starting" until the service listens, then ready', async () => {
    let listenNow: () => void = () => undefined;
    const mayListen = new Promise<void>((resolve) => {
      listenNow = resolve;
    });
    const slow = defineService({
      ...greeter,
      name: 'slow',
      admin: { variable: 'SLOW_ADMIN_PORT' },
      async start(ctx) {
        await mayListen;
        const app = await createHttpServer(ctx);
        const url = await listen(app, ctx.host, ctx.port);
        return { url, stop: () => app.close() };
      },
    });
    const adminPort = await freePort();
    const starting = startService(slow, {
      env: { SLOW_ADMIN_PORT: String(adminPort) },
      logger: createLogger({ level: 'silent' }),
      backends: { describe: () => [], close: () => Promise.resolve() },
      host: '127.0.0.1',
      port: 0,
    });
    const readyz = `http://127.0.0.1:${adminPort}/readyz`;
    const early = await waitFor(() => fetch(readyz).catch(() => undefined), {
      message: 'the admin port to answer',
    });
    expect(early.status).toBe(503);
    expect(await early.json()).toMatchObject({ checks: { started: 'starting' } });
    listenNow();
    const running = await starting;
    try {
      const ready = await fetch(readyz);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ checks: { started: 'ok' } });
    } finally {
      await running.stop();
    }
  });
});
