/**
 * Every service publishes the OpenAPI document of its routes (`/docs/json`, browsable at
 * `/docs`), built from the route schemas, and every route it serves is described there; and
 * `/metrics` answers on its admin port, never on the port clients reach.
 */
import { afterAll, describe, expect, it } from 'vitest';

import type { RunningService } from '../../src/platform/runtime.js';
import { services } from '../../src/services.js';
import { startInProcess } from '../support/in-process.js';

interface OpenApiDocument {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, { summary?: string }>>;
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const started = new Map<string, RunningService>();

/** Starts a service once for every test that asks for it. */
async function start(name: string): Promise<RunningService> {
  const running = started.get(name);
  if (running !== undefined) return running;
  const definition = services.find((service) => service.name === name);
  if (definition === undefined) throw new Error(`no service ${name}`);
  const { service, remove } = await startInProcess(definition, { label: 'openapi' });
  cleanups.push(remove);
  started.set(name, service);
  return service;
}

/** Where its own routes are: its own port when that speaks HTTP, else its admin port. */
function routesUrl(service: RunningService): string {
  return service.url.startsWith('http://') ? service.url : service.healthUrl;
}

describe('the OpenAPI document', () => {
  it.each(services.map((service) => service.name))(
    '%s describes every route it serves at /docs/json',
    async (name) => {
      const service = await start(name);
      const response = await fetch(`${routesUrl(service)}/docs/json`);
      expect(response.status).toBe(200);
      const document = (await response.json()) as OpenApiDocument;
      expect(document.openapi).toMatch(/^3\./);
      expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
      // /metrics is on the admin port (or a consumer's only port), never beside public routes.
      if (routesUrl(service) === service.healthUrl) {
        expect(Object.keys(document.paths)).toContain('/metrics');
      } else {
        expect(Object.keys(document.paths)).not.toContain('/metrics');
      }
      const undescribed = Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.entries(operations)
          .filter(([, operation]) => operation.summary === undefined)
          .map(([method]) => `${method.toUpperCase()} ${path}`),
      );
      expect(undescribed).toEqual([]);
      expect((await fetch(`${routesUrl(service)}/docs/`)).status).toBe(200);
    },
  );
});

describe('/metrics', () => {
  const http = services.filter((service) => service.admin !== undefined);

  it.each(http.map((service) => service.name))(
    '%s serves it on its admin port only, counting the requests of its own port',
    async (name) => {
      const service = await start(name);
      if (service.adminUrl === undefined) throw new Error(`${name} has no admin port`);
      expect((await fetch(`${service.adminUrl}/metrics`)).status).toBe(200);
      if (!service.url.startsWith('http://')) return; // gRPC or NDJSON: no HTTP routes of its own
      const refused = await fetch(`${service.url}/metrics`);
      expect(refused.status).toBe(404);
      expect(await refused.json()).toMatchObject({ error: { code: 'not_found' } });
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      const text = await (await fetch(`${service.adminUrl}/metrics`)).text();
      expect(text).toMatch(
        /^http_request_duration_seconds_count\{[^}]*route="\/healthz"[^}]*status_code="200"[^}]*\} [1-9]/m,
      );
      expect(text).toMatch(
        /^http_request_duration_seconds_count\{[^}]*route="unmatched"[^}]*status_code="404"[^}]*\} [1-9]/m,
      );
    },
  );
});
