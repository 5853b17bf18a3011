/**
 * Every service that needs SQL, from the registry: while its database is missing it answers
 * `/readyz` 503 naming what it waits for and its routes refuse readably (never "relation does
 * not exist"), and once the database is there it serves, without a restart. The platform's
 * schema gate does this for all of them; a new SQL service needs a probe here.
 */
import { randomUUID } from 'node:crypto';

import { status as grpcStatus } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';

import { BallotsClient } from '../../src/election/grpc-client.js';
import { callNews } from '../../src/news/frame-client.js';
import type { RunningService } from '../../src/platform/runtime.js';
import { services } from '../../src/services.js';
import { testDatabaseUrl } from '../support/backends.js';
import { startInProcess } from '../support/in-process.js';
import { openPgProxy } from '../support/pg-proxy.js';
import { waitFor } from '../support/processes.js';

/** Asks a service for work that needs its database: refused while missing, served once back. */
interface Probe {
  whileMissing(service: RunningService): Promise<void>;
  onceBack(service: RunningService): Promise<void>;
}

async function expectReadable503(response: Response): Promise<void> {
  expect(response.status).toBe(503);
  const body = await response.text();
  expect(JSON.parse(body)).toMatchObject({ error: { code: 'database_unavailable' } });
  expect(body).not.toContain('does not exist');
}

const noRoutes: Probe = {
  whileMissing: () => Promise.resolve(),
  onceBack: () => Promise.resolve(),
};

const newsPing: Probe = {
  whileMissing: async (service) => {
    await expect(callNews(address(service), { op: 'ping' })).rejects.toMatchObject({
      code: 'unavailable',
    });
  },
  onceBack: async (service) => {
    await expect(callNews(address(service), { op: 'ping' })).resolves.toBeDefined();
  },
};

const ballot = () => ({
  id: randomUUID(),
  sede: 'Escuela 1',
  municipio: 'Mixco',
  departamento: 'Guatemala',
  papeleta: 'presidente',
  partido: 'UNE',
});

const probes: Record<string, Probe> = {
  tasks: {
    whileMissing: async ({ url }) => {
      await expectReadable503(await postJson(`${url}/tasks`, { title: 'later' }));
    },
    onceBack: async ({ url }) => {
      expect((await postJson(`${url}/tasks`, { title: 'now' })).status).toBe(201);
    },
  },
  result: {
    whileMissing: async ({ url }) => {
      await expectReadable503(await fetch(`${url}/api/results`));
      // The page still renders, at zero, and fills in live.
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('No votes yet');
    },
    onceBack: async ({ url }) => {
      expect((await fetch(`${url}/api/results`)).status).toBe(200);
    },
  },
  'election-api': {
    whileMissing: async ({ url }) => {
      await expectReadable503(await fetch(`${url}/api/summary`));
    },
    onceBack: async ({ url }) => {
      expect((await fetch(`${url}/api/summary`)).status).toBe(200);
    },
  },
  'election-grpc': {
    whileMissing: async (service) => {
      const client = new BallotsClient({ address: address(service), deadlineMs: 5_000 });
      try {
        await expect(client.cast(ballot())).rejects.toMatchObject({
          code: grpcStatus.UNAVAILABLE,
        });
      } finally {
        client.close();
      }
    },
    onceBack: async (service) => {
      const client = new BallotsClient({ address: address(service), deadlineMs: 5_000 });
      try {
        await expect(client.cast(ballot())).resolves.toMatchObject({ duplicate: false });
      } finally {
        client.close();
      }
    },
  },
  'news-agent': newsPing,
  'news-node': newsPing,
  worker: noRoutes,
  'election-subscriber': noRoutes,
};

function address(service: RunningService): string {
  return new URL(service.url).host;
}

function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function readyz(baseUrl: string) {
  const response = await fetch(`${baseUrl}/readyz`);
  return {
    status: response.status,
    body: (await response.json()) as { checks: Record<string, string> },
  };
}

const sqlServices = services.filter((service) => service.needs.includes('sql'));
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('a service whose database is missing at start', () => {
  it('has a probe for every service that needs SQL', () => {
    expect(sqlServices.map((service) => service.name).sort()).toEqual(Object.keys(probes).sort());
  });

  it.each(sqlServices.map((service) => [service.name, service] as const))(
    '%s waits on /readyz, refuses readably, and serves once the database is there',
    async (name, definition) => {
      const probe = probes[name];
      if (probe === undefined) throw new Error(`no probe for ${name}`);
      const proxy = await openPgProxy(testDatabaseUrl);
      const { service, remove } = await startInProcess(definition, {
        label: 'late',
        databaseUrl: proxy.url,
      });
      cleanups.push(async () => {
        await remove();
        await proxy.close();
      });

      const waiting = await readyz(service.healthUrl);
      expect(waiting.status).toBe(503);
      expect(waiting.body.checks.schema).toBe('waiting for the database');
      // The port clients reach says only which checks wait; the admin port also why.
      if (service.url.startsWith('http://') && service.url !== service.healthUrl) {
        const onPublicPort = await readyz(service.url);
        expect(onPublicPort.status).toBe(503);
        expect(onPublicPort.body.checks.schema).toBe('waiting');
      }
      await probe.whileMissing(service);

      proxy.resume();
      await waitFor(async () => (await readyz(service.healthUrl)).status === 200, {
        timeoutMs: 20_000,
        message: `${name} to be ready once the database is there`,
      });
      await probe.onceBack(service);
    },
  );
});
