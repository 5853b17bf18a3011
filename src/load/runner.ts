/**
 * Runs a scenario under the open model (a target arrival rate on a fixed timeline) or the
 * closed model (N users with think time), until a duration, a total or an abort signal.
 */
import { setMaxListeners } from 'node:events';
import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';

import type { Dispatcher } from 'undici';

import { LoadStats, notSentRoute, type SecondSummary, unroutedRoute } from './histogram.js';
import { errorReason, type Outcome, type RunRecord, type Scenario } from './scenario.js';
import { arrivalOffsetMs, type ArrivalRate } from './schedule.js';

export interface OpenModel {
  kind: 'open';
  rate: ArrivalRate;
  /** Arrivals beyond this many unanswered requests fail as dropped instead of waiting. */
  maxInFlight: number;
  /** Distinct users the arrivals are spread over; one request at a time per user. */
  users: number;
}

export interface ClosedModel {
  kind: 'closed';
  users: number;
  /** Users started per second; undefined starts them all at once. */
  spawnRate?: number;
  /** Pause after each answer, drawn uniformly from [min, max] milliseconds. */
  thinkTimeMs: { min: number; max: number };
}

export type LoadModel = OpenModel | ClosedModel;

export type StopReason = 'duration' | 'total' | 'interrupted';

/** What the live view is given once a second. */
export interface LiveTick {
  elapsedMs: number;
  second: SecondSummary;
  /** Requests started (or dropped) so far. */
  issued: number;
  failed: number;
  /** Operations the server acknowledged (the scenario's `acknowledged` outcomes) so far. */
  acked: number;
  inFlight: number;
}

export interface RunPlan {
  model: LoadModel;
  durationMs?: number;
  total?: number;
  /** After the stop, how long requests in flight may take to finish before they are aborted. */
  graceMs: number;
  /** Aborting it (Ctrl-C) stops the run; the result is still returned. */
  signal?: AbortSignal;
  onSecond?: (tick: LiveTick) => void;
}

export interface RunResult<Ack> {
  stats: LoadStats;
  record: RunRecord<Ack>;
  stoppedBy: StopReason;
  startedAt: Date;
  elapsedMs: number;
  /** Requests that had not settled even after being aborted; their outcome is unknown. */
  abandoned: number;
}

export interface Target {
  baseUrl: URL;
  http: Dispatcher;
}

/** How long requests get to settle once aborted before the run stops waiting for them. */
const abandonAfterAbortMs = 1_000;
/** Arrivals issued back to back before yielding to I/O when the schedule is behind. */
const burstBeforeYield = 64;

export async function runScenario<User, Ack>(
  scenario: Scenario<User, Ack>,
  target: Target,
  plan: RunPlan,
): Promise<RunResult<Ack>> {
  const stats = new LoadStats(scenario.routes);
  const acknowledged: Ack[] = [];
  const unconfirmed: Ack[] = [];
  const stop = new AbortController();
  const abortRequests = new AbortController();
  // Every request in flight listens on these; the default cap of 10 would warn.
  setMaxListeners(0, stop.signal, abortRequests.signal);
  const context = { ...target, signal: abortRequests.signal };
  const inFlight = new Set<Promise<void>>();
  let stoppedBy: StopReason | undefined;
  let issued = 0;
  let failed = 0;
  let finished = false;

  const stopWith = (reason: StopReason) => {
    if (stoppedBy !== undefined) return;
    stoppedBy = reason;
    stop.abort();
  };
  const onInterrupt = () => {
    stopWith('interrupted');
  };
  if (plan.signal?.aborted === true) stopWith('interrupted');
  plan.signal?.addEventListener('abort', onInterrupt, { once: true });

  const countOutcome = (outcome: Outcome<Ack>, latencyMs: number | undefined) => {
    if (finished) return;
    if (!outcome.ok) failed += 1;
    const reason =
      outcome.error ?? (outcome.status === undefined ? 'failed' : `HTTP ${outcome.status}`);
    stats.record(outcome.route, outcome.ok, reason, latencyMs);
    if (outcome.ok && outcome.acknowledged !== undefined) acknowledged.push(outcome.acknowledged);
    if (outcome.unconfirmed !== undefined) unconfirmed.push(outcome.unconfirmed);
  };

  // Latency runs from `intendedAt`, not from when the request left: time spent waiting for
  // the generator or a connection is the server's backlog too, and must not be hidden.
  const perform = (user: User, intendedAt: number): Promise<void> => {
    const operation = (async () => {
      let outcome: Outcome<Ack>;
      try {
        outcome = await scenario.request(user, context);
      } catch (error) {
        outcome = { route: unroutedRoute, ok: false, error: errorReason(error) };
      }
      countOutcome(outcome, performance.now() - intendedAt);
    })();
    inFlight.add(operation);
    void operation.finally(() => inFlight.delete(operation));
    return operation;
  };

  const drop = (reason: string) => {
    countOutcome({ route: notSentRoute, ok: false, error: reason }, undefined);
  };

  const startedAt = new Date();
  const start = performance.now();
  const ticker = setInterval(() => {
    const second = stats.closeSecond();
    plan.onSecond?.({
      elapsedMs: performance.now() - start,
      second,
      issued,
      failed,
      acked: acknowledged.length,
      inFlight: inFlight.size,
    });
  }, 1_000);
  const durationTimer =
    plan.durationMs === undefined
      ? undefined
      : setTimeout(() => {
          stopWith('duration');
        }, plan.durationMs);

  const waitUntil = async (due: number) => {
    while (!stop.signal.aborted && performance.now() < due) {
      await sleep(due - performance.now(), undefined, { signal: stop.signal }).catch(
        () => undefined,
      );
    }
  };

  const runOpen = async (model: OpenModel) => {
    const idle: User[] = [];
    let created = 0;
    for (let index = 0; ; index += 1) {
      if (plan.total !== undefined && index >= plan.total) {
        stopWith('total');
        return;
      }
      const offset = arrivalOffsetMs(index, model.rate);
      if (plan.durationMs !== undefined && offset >= plan.durationMs) {
        stopWith('duration');
        return;
      }
      await waitUntil(start + offset);
      if (stop.signal.aborted) return;
      issued += 1;
      if (inFlight.size >= model.maxInFlight) drop('dropped: too many in flight');
      else {
        // A new user while fewer than --users exist, so the arrivals spread over all of them
        // (reusing the idle one first would send everything from the few a fast server frees).
        const user = created < model.users ? scenario.createUser(created++) : idle.shift();
        if (user === undefined) drop('dropped: every user busy');
        else void perform(user, start + offset).then(() => idle.push(user));
      }
      if (index % burstBeforeYield === burstBeforeYield - 1) await yieldToIo();
    }
  };

  const takeTicket = () => {
    if (stop.signal.aborted) return false;
    if (plan.total !== undefined && issued >= plan.total) return false;
    issued += 1;
    if (issued === plan.total) stopWith('total');
    return true;
  };

  const runUser = async (user: User, { min, max }: ClosedModel['thinkTimeMs']) => {
    while (takeTicket()) {
      await perform(user, performance.now());
      const thinkMs = min + Math.random() * (max - min);
      if (thinkMs > 0)
        await sleep(thinkMs, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  };

  const runClosed = async (model: ClosedModel) => {
    const users: Promise<void>[] = [];
    for (let index = 0; index < model.users; index += 1) {
      if (model.spawnRate !== undefined) await waitUntil(start + (index * 1000) / model.spawnRate);
      if (stop.signal.aborted) break;
      users.push(runUser(scenario.createUser(index), model.thinkTimeMs));
    }
    await Promise.all(users);
  };

  const issuing = plan.model.kind === 'open' ? runOpen(plan.model) : runClosed(plan.model);
  await Promise.race([issuing, whenAborted(stop.signal)]);

  // Closed users whose tickets ran out end on their own; open arrivals never wait for answers.
  if (!(await settlesWithin(Promise.all([issuing, ...inFlight]), plan.graceMs))) {
    abortRequests.abort();
    await settlesWithin(Promise.all([issuing, ...inFlight]), abandonAfterAbortMs);
  }
  const abandoned = inFlight.size;
  for (let index = 0; index < abandoned; index += 1) {
    countOutcome(
      { route: unroutedRoute, ok: false, error: 'abandoned: no answer after abort' },
      undefined,
    );
  }
  finished = true;
  clearInterval(ticker);
  clearTimeout(durationTimer);
  plan.signal?.removeEventListener('abort', onInterrupt);
  stats.closeSecond();
  return {
    stats,
    record: { acknowledged, unconfirmed },
    stoppedBy: stoppedBy ?? 'duration',
    startedAt,
    elapsedMs: performance.now() - start,
    abandoned,
  };
}

function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => {
      resolve();
    });
  });
}

/** Whether `work` settled within `ms`; it keeps running either way. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new AbortController();
  const settled = work.then(
    () => true,
    () => true,
  );
  const expired = sleep(ms, false, { signal: timeout.signal }).catch(() => false);
  const result = await Promise.race([settled, expired]);
  timeout.abort();
  return result;
}
