/**
 * Property-based fuzzing of every HTTP route of every registered service, driven by the
 * services' own OpenAPI documents: generated paths, query strings, headers and bodies. Every
 * answer is below 500 and the server keeps serving; an answer of 4xx left the stores as they
 * were. Seeded (the seed is printed; AGORA_TEST_SEED replays it) and bounded in time.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ballotsStream } from '../../src/election/protocol.js';
import type { RedisBroker } from '../../src/platform/broker/index.js';
import type { RunningService } from '../../src/platform/runtime.js';
import type { PgSql } from '../../src/platform/sql/index.js';
import { services } from '../../src/services.js';
import { votesStream } from '../../src/voting/protocol.js';
import { startInProcess } from '../support/in-process.js';
import { anyJson, fuzzParameters, hostileText, storesDigest } from './support.js';

interface Operation {
  parameters?: { in: string; name: string }[];
}
type OpenApi = { paths: Record<string, Record<string, Operation>> };

interface Started {
  service: RunningService;
  stores: { sql?: PgSql; broker?: RedisBroker }[];
}

const started = new Map<string, Started>();
const cleanups: (() => Promise<void>)[] = [];
/** Streams a refused request must not have grown. */
const streams = [votesStream, ballotsStream];
/** Routes that never end by design (server-sent events) or are the docs UI's static files. */
const skipped = (path: string) => path.endsWith('/stream') || path.startsWith('/docs');
/** Requests per service: eleven services stay inside a minute. */
const runsPerService = 100;

beforeAll(async () => {
  const start = async (name: string, env?: Record<string, string>) => {
    const definition = services.find((service) => service.name === name);
    if (definition === undefined) throw new Error(`no service ${name}`);
    const running = await startInProcess(definition, { label: 'fuzz_http', env });
    cleanups.push(running.remove);
    return running;
  };
  const grpc = await start('election-grpc');
  for (const definition of services) {
    if (definition.name === 'election-grpc') {
      started.set('election-grpc', { service: grpc.service, stores: [grpc] });
      continue;
    }
    // The gateway forwards to the election-grpc above: its writes land in that schema.
    const env =
      definition.name === 'election-gateway'
        ? { AGORA_ELECTION_GRPC_URL: grpc.service.url }
        : undefined;
    const running = await start(definition.name, env);
    const stores = definition.name === 'election-gateway' ? [running, grpc] : [running];
    started.set(definition.name, { service: running.service, stores });
  }
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const headerText = fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((text) =>
  // fetch refuses control characters in header values: send what a socket could carry.
  text.replace(/[^\x20-\x7e]/g, ''),
);

const contentTypes = fc.constantFrom(
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
);

const body = fc.oneof(
  anyJson.map((value) => JSON.stringify(value)),
  hostileText,
  fc
    .dictionary(hostileText, hostileText, { maxKeys: 4 })
    .map((fields) => new URLSearchParams(fields).toString()),
);

function requestFor(path: string, method: string, operation: Operation) {
  const names = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
  const keys = fc.oneof(fc.constantFrom(...names, 'lang', 'x'), hostileText);
  return fc.record({
    path: fc
      .array(hostileText, { minLength: 4, maxLength: 4 })
      .map((values) => path.replace(/\{[^}]+\}/g, () => encodeURIComponent(values.pop() ?? ''))),
    query: fc.oneof(
      fc
        .dictionary(keys, hostileText, { maxKeys: 4 })
        .map((q) => new URLSearchParams(q).toString()),
      headerText,
    ),
    headers: fc.record(
      {
        'content-type': contentTypes,
        accept: fc.constantFrom('application/json', 'text/html', '*/*', 'text/event-stream'),
        'idempotency-key': headerText,
        'x-client-id': headerText,
        cookie: headerText,
        'accept-language': headerText,
      },
      { requiredKeys: [] },
    ),
    body: ['post', 'put', 'patch', 'delete'].includes(method) ? fc.option(body) : fc.constant(null),
  });
}

describe.each(services.map((service) => service.name))('HTTP fuzzing of %s', (name) => {
  it('answers every generated request below 500, and a refusal stores nothing', async () => {
    const { service, stores } = started.get(name) ?? {};
    if (service === undefined || stores === undefined) throw new Error(`${name} did not start`);
    // Its own routes: on its own port when that speaks HTTP, else (gRPC, NDJSON) the admin port's.
    const base = service.url.startsWith('http://') ? service.url : service.healthUrl;
    const document = (await (await fetch(`${base}/docs/json`)).json()) as OpenApi;
    const routes = Object.entries(document.paths).flatMap(([path, operations]) =>
      skipped(path)
        ? []
        : Object.entries(operations).map(([method, operation]) => ({ path, method, operation })),
    );
    const request = fc.oneof(
      ...routes.map(({ path, method, operation }) =>
        requestFor(path, method, operation).map((parts) => ({ ...parts, method })),
      ),
    );
    const failures: string[] = [];
    let sentCount = 0;
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, query, headers, body: sent }) => {
        const before = await storesDigest(stores, streams);
        const url = `${base}${path}${query === '' ? '' : `?${query}`}`;
        const response = await fetch(url, {
          method: method.toUpperCase(),
          headers,
          ...(sent === null ? {} : { body: sent }),
        });
        await response.arrayBuffer();
        sentCount += 1;
        if (response.status >= 500) {
          failures.push(`${method.toUpperCase()} ${url} -> ${response.status}`);
          return false;
        }
        if (response.status >= 400) {
          expect(await storesDigest(stores, streams)).toBe(before);
        }
        return true;
      }),
      fuzzParameters(`fuzz http ${name}`, runsPerService),
    );
    expect(failures).toEqual([]);
    expect(sentCount).toBeGreaterThan(0);
    process.stdout.write(`fuzz http ${name}: ${sentCount} requests\n`);
    // Still serving a normal client.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
