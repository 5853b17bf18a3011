import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';

import { startTestTarget } from '../../load/test-target.js';
import { parseRouteWeights, readBallotFile } from './profile.js';
import { type Attempt, sendWithRetries } from './routes.js';
import { type ElectionLoadOptions, electionScenario } from './scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'agora-election-load-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const seedBallot = {
  sede: 'Escuela Oficial Rural Mixta No. 1, Mixco',
  municipio: 'Mixco',
  departamento: 'Guatemala',
  papeleta: 'presidente',
  partido: 'UNE',
};

describe('route weights', () => {
  it('reads route=weight pairs and leaves unnamed routes out', () => {
    expect(parseRouteWeights('gateway-grpc=1, grpc-direct=2.5')).toEqual(
      new Map([
        ['gateway-grpc', 1],
        ['grpc-direct', 2.5],
      ]),
    );
  });

  it('refuses unknown routes and all-zero weights, naming the known routes', () => {
    expect(() => parseRouteWeights('grpc=1')).toThrow(/gateway-grpc, gateway-redis, grpc-direct/);
    expect(() => parseRouteWeights('gateway-grpc=x')).toThrow(/route=weight/);
    expect(() => parseRouteWeights('gateway-grpc=0')).toThrow(/above 0/);
  });
});

describe('a --data file', () => {
  const write = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('holds the seed’s ballots; an id is kept only when the file gives one', async () => {
    const path = write('ok.json', JSON.stringify([seedBallot, { ...seedBallot, id: 'mine-1' }]));
    expect(await readBallotFile(path)).toEqual([seedBallot, { ...seedBallot, id: 'mine-1' }]);
  });

  it('names the file and the bad ballot’s field', async () => {
    const bad = write('bad.json', JSON.stringify([seedBallot, { ...seedBallot, partido: '' }]));
    await expect(readBallotFile(bad)).rejects.toThrow(
      /bad\.json: \[1\]\.partido must not be empty/,
    );
    const extra = write('extra.json', JSON.stringify([{ ...seedBallot, color: 'red' }]));
    await expect(readBallotFile(extra)).rejects.toThrow(/\[0\]\.color: unknown field/);
    await expect(readBallotFile(write('empty.json', '[]'))).rejects.toThrow(/non-empty JSON array/);
    await expect(readBallotFile(write('broken.json', '[{'))).rejects.toThrow(/broken\.json/);
    await expect(readBallotFile(join(dir, 'missing.json'))).rejects.toThrow(/ENOENT/);
  });
});

describe('sending with retries', () => {
  const policy = { retries: 3, initialMs: 1, maxMs: 2 };
  const attempts = (...results: Attempt[]) => {
    let calls = 0;
    return {
      attempt: () => Promise.resolve(results[Math.min(calls++, results.length - 1)] as Attempt),
      calls: () => calls,
    };
  };

  it('retries a retryable failure until it succeeds, and says a retry happened', async () => {
    const { attempt, calls } = attempts(
      { kind: 'retry', reason: 'HTTP 503', status: 503 },
      { kind: 'retry', reason: 'ECONNREFUSED' },
      { kind: 'ok', ids: ['a'] },
    );
    const result = await sendWithRetries(attempt, policy, new AbortController().signal);
    expect(result).toMatchObject({ ok: true, ids: ['a'], retries: 2 });
    expect(calls()).toBe(3);
  });

  it('does not retry a final failure, and knows nothing was stored', async () => {
    const { attempt, calls } = attempts({ kind: 'final', reason: 'HTTP 400', status: 400 });
    const result = await sendWithRetries(attempt, policy, new AbortController().signal);
    expect(result).toMatchObject({ ok: false, reason: 'HTTP 400', retries: 0, uncertain: false });
    expect(calls()).toBe(1);
  });

  it('gives up after its retries; the ballots may then have been stored', async () => {
    const { attempt, calls } = attempts({ kind: 'retry', reason: 'UNAVAILABLE' });
    const result = await sendWithRetries(attempt, policy, new AbortController().signal);
    expect(result).toMatchObject({ ok: false, reason: 'UNAVAILABLE', retries: 3, uncertain: true });
    expect(calls()).toBe(4);
  });
});

describe('the election scenario against a gateway', () => {
  const options = (gatewayUrl: URL, extra: Partial<ElectionLoadOptions> = {}) =>
    ({
      gatewayUrl,
      grpcAddress: '127.0.0.1:1',
      weights: new Map([['gateway-redis', 1]]),
      batch: 3,
      retry: { retries: 5, initialMs: 1, maxMs: 5 },
      timeoutMs: 2_000,
      settleTimeoutMs: 0,
      ...extra,
    }) satisfies ElectionLoadOptions;

  it('retries a 503 with the same ids and acknowledges the batch once the gateway takes it', async () => {
    let calls = 0;
    const gateway = await startTestTarget((request) => {
      calls += 1;
      if (calls === 1) return { status: 503 };
      const ids = (JSON.parse(request.body) as { id: string }[]).map((ballot) => ballot.id);
      return { status: 201, body: JSON.stringify({ ids, route: 'redis' }) };
    });
    const http = new Agent();
    try {
      const scenario = electionScenario(options(gateway.url, { seed: 1 }));
      const context = { baseUrl: gateway.url, http, signal: new AbortController().signal };
      const outcome = await scenario.request(null, context);
      expect(outcome).toMatchObject({ route: 'gateway-redis', ok: true });
      expect(outcome.acknowledged?.ballots).toHaveLength(3);
      const bodies = gateway.received.map((request) => request.body);
      expect(gateway.received.map((request) => request.path)).toEqual([
        '/ingest/redis',
        '/ingest/redis',
      ]);
      expect(bodies[1]).toBe(bodies[0]);
      scenario.close();
    } finally {
      await http.close();
      await gateway.close();
    }
  });

  it('sends a data file’s ballots in a loop, one object per request as Locust does', async () => {
    const gateway = await startTestTarget((request) => {
      const { id } = JSON.parse(request.body) as { id: string };
      return { status: 201, body: JSON.stringify({ ids: [id], route: 'grpc' }) };
    });
    const http = new Agent();
    try {
      const data = [seedBallot, { ...seedBallot, partido: 'VAMOS', id: 'fixed-1' }];
      const scenario = electionScenario(
        options(gateway.url, { data, batch: 1, weights: new Map([['gateway-grpc', 1]]) }),
      );
      const context = { baseUrl: gateway.url, http, signal: new AbortController().signal };
      for (let index = 0; index < 4; index += 1) await scenario.request(null, context);
      const sent = gateway.received.map((request) => JSON.parse(request.body) as typeof seedBallot);
      expect(sent.map((ballot) => ballot.partido)).toEqual(['UNE', 'VAMOS', 'UNE', 'VAMOS']);
      const ids = sent.map((ballot) => (ballot as { id?: string }).id);
      // A file's own id is reused on every pass; the others get a fresh one per send.
      expect(ids[1]).toBe('fixed-1');
      expect(ids[3]).toBe('fixed-1');
      expect(ids[0]).not.toBe(ids[2]);
      scenario.close();
    } finally {
      await http.close();
      await gateway.close();
    }
  });

  it('counts a batch the gateway kept answering 503 as unconfirmed: it may have been stored', async () => {
    const gateway = await startTestTarget(() => ({ status: 503 }));
    const http = new Agent();
    try {
      const scenario = electionScenario(options(gateway.url));
      const context = { baseUrl: gateway.url, http, signal: new AbortController().signal };
      const outcome = await scenario.request(null, context);
      expect(outcome).toMatchObject({ ok: false, status: 503 });
      expect(outcome.unconfirmed?.ballots).toHaveLength(3);
      // The first send and five retries, all with the same ids.
      expect(gateway.received).toHaveLength(6);
      scenario.close();
    } finally {
      await http.close();
      await gateway.close();
    }
  });

  it('reports a 400 as a failure that stored nothing, with the error code', async () => {
    const gateway = await startTestTarget(() => ({
      status: 400,
      body: JSON.stringify({ error: { code: 'invalid_request', message: 'partido' } }),
    }));
    const http = new Agent();
    try {
      const scenario = electionScenario(options(gateway.url));
      const context = { baseUrl: gateway.url, http, signal: new AbortController().signal };
      const outcome = await scenario.request(null, context);
      expect(outcome).toMatchObject({ ok: false, status: 400, error: 'HTTP 400: invalid_request' });
      expect(outcome.unconfirmed).toBeUndefined();
      expect(gateway.received).toHaveLength(1);
      scenario.close();
    } finally {
      await http.close();
      await gateway.close();
    }
  });
});
