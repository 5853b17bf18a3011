/**
 * Part (c) of the voting benchmark: vote, worker and result as processes; votes sent at a
 * steady rate on an open-loop timeline, each from a new voter; for each, the time from its 202
 * to the first `results` event on result's SSE stream whose total includes it.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { build, type Histogram } from 'hdr-histogram-js';
import { Pool, request } from 'undici';

import { progress } from '../support/benchmark.js';
import { type Memory, readMemory } from '../support/report.js';
import type { ServerProcess } from '../support/server-process.js';
import type { VotingLab, VotingService } from './services.js';

export interface LatencySettings {
  votesPerSecond: number;
  seconds: number;
}

export interface LatencyResult extends LatencySettings {
  sent: number;
  accepted: number;
  /** Accepted votes the stream never showed before the deadline. */
  unseen: number;
  /** From each vote's planned send time to its 202, ms (open loop: lateness counts). */
  accept: Percentiles;
  /** From each vote's 202 to the SSE event that includes it, ms. */
  visible: Percentiles;
  memory: { service: string; memory: Memory | undefined }[];
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

interface Accepted {
  /** The stream entry id vote answered with: where the vote sits in the stream. */
  entryId: string;
  acceptedAt: number;
}

interface StreamedTotal {
  at: number;
  total: number;
}

/** How long after the last 202 the stream may take to show every vote. */
const settleMs = 10_000;
const voteConnections = 32;
const warmupSeconds = 2;

export async function measureLatency(
  lab: VotingLab,
  settings: LatencySettings,
): Promise<LatencyResult> {
  const namespace = lab.namespace('live');
  const started: { service: VotingService; server: ServerProcess }[] = [];
  const start = async (service: VotingService, env: Record<string, string> = {}) => {
    const server = await lab.start(service, namespace, { env });
    started.push({ service, server });
    return server;
  };
  try {
    // One at a time, so a failed start leaves no half-started process behind.
    // One loop, so batches commit in stream order, which `visibility` relies on: with two, a
    // later batch could commit first and make an earlier vote look visible too soon.
    await start('worker', { VOTE_CONCURRENCY: '1' });
    const result = await start('result');
    const vote = await start('vote');
    const totals = await followTotals(new URL('/api/stream', result.url));
    try {
      const baseline = await totals.first;
      const pool = new Pool(vote.url, { connections: voteConnections });
      const seen = async (votes: number) => {
        const deadline = performance.now() + settleMs;
        while (totals.latest() < votes && performance.now() < deadline) await sleep(5);
      };
      let sent: number;
      let accepted: Accepted[];
      let warmedUp: Accepted[];
      let accept: Histogram;
      try {
        // Discarded, so JIT, connections and pools are warm; its entries stay first in the
        // stream, which the stream ranks below account for.
        progress(`warming up at ${settings.votesPerSecond} votes/s for ${warmupSeconds} s`);
        const warmup = await sendVotes(pool, { ...settings, seconds: warmupSeconds });
        warmup.accept.destroy();
        warmedUp = warmup.accepted;
        const before = baseline + warmedUp.length;
        await seen(before);
        progress(`sending ${settings.votesPerSecond} votes/s for ${settings.seconds} s`);
        ({ sent, accepted, accept } = await sendVotes(pool, settings));
        await seen(before + accepted.length);
      } finally {
        await pool.close();
      }
      const ranks = streamRanks([...warmedUp, ...accepted]);
      const { visible, unseen } = visibility(accepted, ranks, baseline, totals.events);
      const memory = started.map(({ service, server }) => ({
        service,
        memory: readMemory(server.pid),
      }));
      const figures = {
        ...settings,
        sent,
        accepted: accepted.length,
        unseen,
        accept: percentiles(accept),
        visible: percentiles(visible),
        memory,
      };
      accept.destroy();
      visible.destroy();
      return figures;
    } finally {
      totals.close();
    }
  } finally {
    await Promise.all(started.map(({ server }) => server.stop()));
  }
}

/** Open loop: vote i is due at start + i / rate, sent when due whatever the earlier ones do. */
async function sendVotes(pool: Pool, settings: LatencySettings) {
  const accept = histogram();
  const accepted: Accepted[] = [];
  const total = settings.votesPerSecond * settings.seconds;
  const intervalMs = 1000 / settings.votesPerSecond;
  const inFlight: Promise<void>[] = [];
  let failed = 0;
  const castVote = async (index: number, due: number) => {
    const body = JSON.stringify({ vote: index % 2 === 0 ? 'a' : 'b' });
    try {
      const response = await pool.request({
        path: '/',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const answer = (await response.body.json()) as { entry_id?: unknown };
      const at = performance.now();
      if (response.statusCode !== 202 || typeof answer.entry_id !== 'string') {
        failed += 1;
        return;
      }
      accept.recordValue(Math.max(1, Math.round((at - due) * 1000)));
      accepted.push({ entryId: answer.entry_id, acceptedAt: at });
    } catch {
      failed += 1;
    }
  };
  const begin = performance.now();
  let next = 0;
  while (next < total) {
    const now = performance.now();
    for (; next < total && begin + next * intervalMs <= now; next++) {
      inFlight.push(castVote(next, begin + next * intervalMs));
    }
    await sleep(1);
  }
  await Promise.all(inFlight);
  if (failed > 0) progress(`${failed} votes were not accepted`);
  return { sent: total, accepted, accept };
}

/** Reads result's SSE stream in the background: every `results` event's total, timed. */
async function followTotals(url: URL) {
  const controller = new AbortController();
  const response = await request(url, { signal: controller.signal });
  if (response.statusCode !== 200) throw new Error(`${url.href} answered ${response.statusCode}`);
  const events: StreamedTotal[] = [];
  let resolveFirst: (total: number) => void = () => undefined;
  const first = new Promise<number>((resolve) => (resolveFirst = resolve));
  void (async () => {
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        const at = performance.now();
        buffered += (chunk as Buffer).toString('utf8');
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const total = totalOf(buffered.slice(0, end));
          buffered = buffered.slice(end + 2);
          if (total === undefined) continue;
          events.push({ at, total });
          resolveFirst(total);
        }
      }
    } catch {
      // Aborted by close(), or the stream ended: the events so far are what was seen.
    }
  })();
  return {
    first,
    events,
    latest: () => events.at(-1)?.total ?? 0,
    close: () => {
      controller.abort();
    },
  };
}

function totalOf(event: string): number | undefined {
  if (!event.split('\n').includes('event: results')) return undefined;
  const data = event.split('\n').find((line) => line.startsWith('data: '));
  const parsed =
    data === undefined ? undefined : (JSON.parse(data.slice(6)) as { total?: unknown });
  return typeof parsed?.total === 'number' ? parsed.total : undefined;
}

/**
 * Each accepted vote's 1-based place in the stream, from the entry ids vote answered with (the
 * worker trims what it has acked, so the stream no longer holds them to count). A vote whose
 * answer was lost but whose entry went in would shift later places by one; none was lost here
 * unless the run says some votes were not accepted.
 */
function streamRanks(accepted: readonly Accepted[]): Map<string, number> {
  const position = (entryId: string) => entryId.split('-').map(BigInt) as [bigint, bigint];
  const ordered = accepted
    .map((vote) => ({ entryId: vote.entryId, at: position(vote.entryId) }))
    .sort((a, b) => (a.at[0] === b.at[0] ? Number(a.at[1] - b.at[1]) : Number(a.at[0] - b.at[0])));
  return new Map(ordered.map((vote, index) => [vote.entryId, index + 1]));
}

/**
 * With one new voter per vote the total only grows, so the vote at stream place r is included
 * once a streamed total reaches baseline + r: the first such event, found by bisection.
 */
function visibility(
  accepted: readonly Accepted[],
  ranks: ReadonlyMap<string, number>,
  baseline: number,
  events: readonly StreamedTotal[],
) {
  const visible = histogram();
  let unseen = 0;
  for (const vote of accepted) {
    const needed = baseline + (ranks.get(vote.entryId) ?? Number.POSITIVE_INFINITY);
    let low = 0;
    let high = events.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((events[middle]?.total ?? 0) >= needed) high = middle;
      else low = middle + 1;
    }
    const event = events[low];
    if (event === undefined) {
      unseen += 1;
      continue;
    }
    // The event can beat the 202 to the client: the worker may commit before vote answers.
    visible.recordValue(Math.max(1, Math.round((event.at - vote.acceptedAt) * 1000)));
  }
  return { visible, unseen };
}

function histogram(): Histogram {
  return build({ numberOfSignificantValueDigits: 3, autoResize: true });
}

function percentiles(histogram: Histogram): Percentiles {
  const ms = (micros: number) => micros / 1000;
  if (histogram.totalCount === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
  return {
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
  };
}
