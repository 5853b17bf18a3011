/**
 * Every service publishes the OpenAPI document of its routes (`/docs/json`, browsable at
 * `/docs`), built from the route schemas, and every route it serves is described there.
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

async function start(name: string): Promise<RunningService> {
  const definition = services.find((service) => service.name === name);
  if (definition === undefined) throw new Error(`no service ${name}`);
  const { service, remove } = await startInProcess(definition, { label: 'openapi' });
  cleanups.push(remove);
  return service;
}

describe('the OpenAPI document', () => {
  it.each(services.map((service) => service.name))(
    '%s describes every route it serves at /docs/json',
    async (name) => {
      const service = await start(name);
      const response = await fetch(`${service.healthUrl}/docs/json`);
      expect(response.status).toBe(200);
      const document = (await response.json()) as OpenApiDocument;
      expect(document.openapi).toMatch(/^3\./);
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining(['/healthz', '/readyz', '/metrics']),
      );
      const undescribed = Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.entries(operations)
          .filter(([, operation]) => operation.summary === undefined)
          .map(([method]) => `${method.toUpperCase()} ${path}`),
      );
      expect(undescribed).toEqual([]);
      expect((await fetch(`${service.healthUrl}/docs/`)).status).toBe(200);
    },
  );
});
