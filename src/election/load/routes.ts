/**
 * How `agora load election` sends a batch of ballots on each of its three routes: the gateway's
 * `POST /ingest/grpc` and `POST /ingest/redis`, and gRPC `Cast`/`CastMany` straight to
 * election-grpc. A send that may succeed later (connection lost, 5xx, UNAVAILABLE) is retried
 * with the SAME ids, so the server's idempotency turns retries into at most one stored copy.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import * as grpc from '@grpc/grpc-js';
import { request } from 'undici';

import { errorReason, type ScenarioContext } from '../../load/scenario.js';
import { backoffDelay } from '../../platform/backoff.js';
import type { Ballot } from '../ballot.js';
import { type BallotsClient, isServiceError } from '../grpc-client.js';

export const loadRoutes = ['gateway-grpc', 'gateway-redis', 'grpc-direct'] as const;
export type LoadRoute = (typeof loadRoutes)[number];

/** What one attempt came to. `retry` failures may succeed later; `final` ones never will. */
export type Attempt =
  | { kind: 'ok'; ids: string[] }
  | { kind: 'retry'; reason: string; status?: number }
  | { kind: 'final'; reason: string; status?: number };

export interface SendResult {
  ok: boolean;
  ids: string[];
  /** The last attempt's failure, when not ok. */
  reason?: string;
  status?: number;
  /** Attempts after the first. */
  retries: number;
  /** True when some attempt may have stored the ballots although it did not say so. */
  uncertain: boolean;
}

export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number;
  initialMs: number;
  maxMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 20, initialMs: 50, maxMs: 1_000 };

/** Sends until an attempt succeeds or fails for good, the retries run out or the run aborts. */
export async function sendWithRetries(
  attempt: () => Promise<Attempt>,
  policy: RetryPolicy,
  signal: AbortSignal,
): Promise<SendResult> {
  let uncertain = false;
  for (let retries = 0; ; retries += 1) {
    const result = await attempt();
    if (result.kind === 'ok') return { ok: true, ids: result.ids, retries, uncertain };
    // A 4xx or INVALID_ARGUMENT stores nothing; anything else may have stored the batch.
    if (result.kind === 'final' || retries >= policy.retries || signal.aborted) {
      uncertain ||= result.kind === 'retry';
      return {
        ok: false,
        ids: [],
        reason: result.reason,
        status: result.status,
        retries,
        uncertain,
      };
    }
    uncertain = true;
    const delayMs = backoffDelay(retries, policy);
    await sleep(delayMs, undefined, { signal }).catch(() => undefined);
  }
}

/** One attempt at `POST /ingest/<route>` on the gateway. */
export async function postToGateway(
  gateway: URL,
  route: 'grpc' | 'redis',
  ballots: readonly Ballot[],
  context: ScenarioContext,
): Promise<Attempt> {
  try {
    const response = await request(new URL(`/ingest/${route}`, gateway), {
      method: 'POST',
      dispatcher: context.http,
      signal: context.signal,
      headers: { 'content-type': 'application/json' },
      // One ballot goes as the seed's Locust sends it: a bare object.
      body: JSON.stringify(ballots.length === 1 ? ballots[0] : ballots),
    });
    const status = response.statusCode;
    if (status >= 500) {
      await response.body.dump();
      return { kind: 'retry', reason: `HTTP ${status}`, status };
    }
    if (status >= 300) {
      const text = await response.body.text();
      return { kind: 'final', reason: `HTTP ${status}${errorCode(text)}`, status };
    }
    const answer: unknown = await response.body.json();
    const ids = (answer as { ids?: unknown } | null)?.ids;
    if (!sameIds(ids, ballots)) return { kind: 'retry', reason: 'unexpected answer', status };
    return { kind: 'ok', ids: ballots.map((ballot) => ballot.id) };
  } catch (error) {
    return { kind: 'retry', reason: errorReason(error) };
  }
}

/** The gRPC codes after which the same call may still succeed. */
const retryableCodes = new Set<grpc.status>([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.ABORTED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.CANCELLED,
]);

/**
 * One attempt at `Cast` (one ballot) or `CastMany` (several) on election-grpc, through the
 * ingest's client (its deadline, `--timeout`, bounds the call).
 */
export async function castDirect(
  client: BallotsClient,
  ballots: readonly Ballot[],
): Promise<Attempt> {
  try {
    const first = ballots[0];
    const ids =
      ballots.length === 1 && first !== undefined
        ? [(await client.cast(first)).id]
        : (await client.castMany(ballots)).ids;
    if (!sameIds(ids, ballots)) return { kind: 'retry', reason: 'unexpected answer' };
    return { kind: 'ok', ids: ballots.map((ballot) => ballot.id) };
  } catch (error) {
    if (!isServiceError(error)) return { kind: 'retry', reason: errorReason(error) };
    const reason = statusName(error.code);
    return { kind: retryableCodes.has(error.code) ? 'retry' : 'final', reason };
  }
}

/** `UNAVAILABLE` rather than 14, as failures are grouped by it. */
function statusName(code: number): string {
  const name: unknown = (grpc.status as unknown as Record<number, unknown>)[code];
  return typeof name === 'string' ? name : `gRPC ${code}`;
}

function sameIds(ids: unknown, ballots: readonly Ballot[]): boolean {
  return (
    Array.isArray(ids) &&
    ids.length === ballots.length &&
    ballots.every((ballot, index) => ids[index] === ballot.id)
  );
}

/** `: code` from an `{ error: { code } }` body, so failures group by reason, not by message. */
function errorCode(body: string): string {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? `: ${code}` : '';
  } catch {
    return '';
  }
}
