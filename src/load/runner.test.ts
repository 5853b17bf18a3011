import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { type LoadModel, type RunPlan, runScenario } from './runner.js';
import { errorReason, type Scenario } from './scenario.js';
import { arrivalsWithin } from './schedule.js';
import { startTestTarget, type TestTarget } from './test-target.js';

interface Visitor {
  id: number;
  sent: number;
}

/** GET /hit as a numbered visitor; the acknowledgement is "visitor-request". */
function hitScenario(url: URL): Scenario<Visitor, string> {
  return {
    name: 'hits',
    routes: ['hit'],
    createUser: (index) => ({ id: index, sent: 0 }),
    async request(visitor, context) {
      visitor.sent += 1;
      try {
        const response = await request(new URL('/hit', url), {
          dispatcher: context.http,
          signal: context.signal,
          headers: { 'x-visitor': String(visitor.id) },
        });
        await response.body.dump();
        const ok = response.statusCode === 200;
        return {
          route: 'hit',
          ok,
          status: response.statusCode,
          acknowledged: `${visitor.id}-${visitor.sent}`,
        };
      } catch (error) {
        return { route: 'hit', ok: false, error: errorReason(error) };
      }
    },
  };
}

const open = (perSecond: number, maxInFlight = 100): LoadModel => ({
  kind: 'open',
  rate: { perSecond, rampSeconds: 0 },
  maxInFlight,
  users: maxInFlight,
});

describe('runScenario', () => {
  let target: TestTarget;
  let http: Agent;
  beforeEach(async () => {
    target = await startTestTarget();
    http = new Agent({ connections: 100 });
  });
  afterEach(async () => {
    await target.close();
    await http.destroy();
  });

  const run = (plan: Partial<RunPlan> & Pick<RunPlan, 'model'>) =>
    runScenario(
      hitScenario(target.url),
      { baseUrl: target.url, http },
      { graceMs: 10_000, ...plan },
    );

  it('an open run stopped by a total sends exactly that many requests', async () => {
    const result = await run({ model: open(500), total: 40 });
    const { total } = result.stats.summary();
    expect(result.stoppedBy).toBe('total');
    expect(total.requests).toBe(40);
    expect(total.ok).toBe(40);
    expect(target.received).toHaveLength(40);
    expect(result.record.acknowledged).toHaveLength(40);
  });

  it('an open run spreads its arrivals over --users distinct users, not the few a fast server frees', async () => {
    // As many users as arrivals: each arrival must get a user of its own, however fast the
    // server frees the earlier ones (reusing an idle user first used just a few).
    const model: LoadModel = { ...open(500), users: 60 };
    const result = await run({ model, total: 60 });
    const visitors = new Set(target.received.map((request) => request.headers['x-visitor']));
    expect(result.stats.summary().total.ok).toBe(60);
    expect(visitors.size).toBe(60);
  });

  it('an open run stopped by a duration sends the arrivals its timeline holds', async () => {
    const model = open(100);
    const result = await run({ model, durationMs: 300 });
    expect(result.stoppedBy).toBe('duration');
    expect(arrivalsWithin(300, { perSecond: 100, rampSeconds: 0 })).toBe(30);
    expect(result.stats.summary().total.requests).toBe(30);
    expect(target.received).toHaveLength(30);
  });

  it('keeps sending while nothing is answered, and latency from the intended send time shows the hold', async () => {
    target.hold();
    const running = run({ model: open(200), total: 20 });
    await target.whenReceived(1);
    const firstSeen = performance.now();
    // Every arrival reaches the server while none has been answered: the schedule never waits.
    await target.whenReceived(20);
    const heldMs = performance.now() - firstSeen;
    target.release();
    const { total } = (await running).stats.summary();
    expect(total.ok).toBe(20);
    expect(total.latencyMs.max).toBeGreaterThanOrEqual(heldMs);
    expect(total.latencyMs.p99).toBeGreaterThanOrEqual(heldMs);
  });

  it('counts arrivals over the in-flight cap as dropped failures and aborts the rest at the end', async () => {
    target.hold();
    const result = await run({ model: open(1_000, 5), total: 20, graceMs: 100 });
    const { total, routes } = result.stats.summary();
    expect(total.requests).toBe(20);
    expect(total.ok).toBe(0);
    expect(routes.find((route) => route.route === '(not sent)')?.failures).toEqual({
      'dropped: too many in flight': 15,
    });
    expect(routes.find((route) => route.route === 'hit')?.failures).toEqual({ aborted: 5 });
    expect(target.received.length).toBeLessThanOrEqual(5);
  });

  it('a closed run issues its requests from exactly N users', async () => {
    const model: LoadModel = { kind: 'closed', users: 4, thinkTimeMs: { min: 0, max: 0 } };
    const result = await run({ model, total: 40 });
    const visitors = new Set(target.received.map((one) => one.headers['x-visitor']));
    expect(result.stats.summary().total.requests).toBe(40);
    expect(target.received).toHaveLength(40);
    expect([...visitors].sort()).toEqual(['0', '1', '2', '3']);
  });

  it('an aborted run stops early and still returns everything it measured', async () => {
    target.hold();
    const interrupt = new AbortController();
    const running = run({ model: open(50), durationMs: 60_000, signal: interrupt.signal });
    await target.whenReceived(3);
    interrupt.abort();
    target.release();
    const result = await running;
    expect(result.stoppedBy).toBe('interrupted');
    expect(result.stats.summary().total.requests).toBe(target.received.length);
    expect(result.stats.summary().total.ok).toBeGreaterThanOrEqual(3);
    expect(result.stats.timeline().length).toBeGreaterThanOrEqual(1);
  });
});
