/**
 * `agora load voting`: simulated voters, each with its own voter_id cookie, POST random votes
 * to the vote service; afterwards the result service's tally must match the voters' last
 * acknowledged votes, on top of the tally read before the run.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { Option } from 'commander';
import { request } from 'undici';

import { parseDuration } from '../load/cli-options.js';
import type { LoadProfile } from '../load/command.js';
import {
  describeStore,
  errorReason,
  type RunRecord,
  type Scenario,
  type ScenarioContext,
  type VerificationResult,
} from '../load/scenario.js';
import { UsageError } from '../platform/errors.js';
import { isVoteOption, type VoteOption, voteOptions } from './protocol.js';

export interface VotingLoadOptions {
  /** Where the result service answers `GET /api/results`. */
  resultUrl: URL;
  /** How long verification waits for the tally to catch up with the acknowledged votes. */
  settleTimeoutMs: number;
  /** Pause between two reads of the tally while waiting. */
  pollIntervalMs?: number;
}

interface SimulatedVoter {
  /** `voter_id=<signed value>`, as the first acknowledged answer set it. */
  cookie?: string;
  voterId?: string;
  /** Votes sent so far; a vote's number orders it among this voter's votes. */
  sent: number;
}

/** One vote as the run saw it; `voterId` is unknown when the voter's first vote got no answer. */
export interface CastVote {
  voterId?: string;
  sequence: number;
  option: VoteOption;
}

export type VoteCounts = Record<VoteOption, number>;

/** What the stored tally may hold per option: exact unless some votes were unconfirmed. */
export type TallyBounds = Record<VoteOption, { min: number; max: number }>;

const route = 'POST /';
const defaultPollIntervalMs = 200;

export function votingScenario(options: VotingLoadOptions): Scenario<SimulatedVoter, CastVote> {
  const { resultUrl, settleTimeoutMs, pollIntervalMs = defaultPollIntervalMs } = options;
  const tallyUrl = new URL('/api/results', resultUrl);
  let baseline: VoteCounts | undefined;

  return {
    name: 'voting',
    routes: [route],
    async prepare(context) {
      // Votes cast before the run stay in the tally; this run's voters are all new (no cookie).
      baseline = await readTally(tallyUrl, context);
    },
    createUser: () => ({ sent: 0 }),
    async request(voter, context) {
      const vote: CastVote = {
        voterId: voter.voterId,
        sequence: voter.sent++,
        option: voteOptions[Math.floor(Math.random() * voteOptions.length)] ?? 'a',
      };
      try {
        const response = await request(new URL('/', context.baseUrl), {
          method: 'POST',
          dispatcher: context.http,
          signal: context.signal,
          headers: {
            'content-type': 'application/json',
            ...(voter.cookie === undefined ? {} : { cookie: voter.cookie }),
          },
          body: JSON.stringify({ vote: vote.option }),
        });
        const status = response.statusCode;
        if (status !== 202) {
          await response.body.dump();
          // A 5xx may have come after the append: a 503 too, when Redis applied the XADD (and
          // wrote its AOF) but died before answering, so vote saw only the connection drop.
          const unknown = status >= 500;
          return { route, ok: false, status, unconfirmed: unknown ? vote : undefined };
        }
        const answer: unknown = await response.body.json();
        if (!isVoteAnswer(answer) || answer.vote !== vote.option) {
          return { route, ok: false, status, error: 'unexpected answer', unconfirmed: vote };
        }
        voter.cookie = voterCookie(response.headers['set-cookie']) ?? voter.cookie;
        voter.voterId = answer.voter_id;
        return { route, ok: true, status, acknowledged: { ...vote, voterId: answer.voter_id } };
      } catch (error) {
        return { route, ok: false, error: errorReason(error), unconfirmed: vote };
      }
    },
    async verify(record, context) {
      if (baseline === undefined) throw new Error('the tally before the run was not read');
      const result = await awaitTally(tallyUrl, tallyBounds(baseline, record), record, context, {
        deadline: Date.now() + settleTimeoutMs,
        pollIntervalMs,
      });
      return { ...result, store: await readStore(resultUrl, context) };
    },
  };
}

/**
 * Per option, the least and most the tally may hold after the run. A voter counts for its last
 * acknowledged vote, except that an unconfirmed vote may have been stored and, if the server
 * appended it after the client gave up, even after a later acknowledged one.
 */
export function tallyBounds(baseline: VoteCounts, record: RunRecord<CastVote>): TallyBounds {
  const voters = new Map<string, { last?: CastVote; unconfirmed: VoteOption[] }>();
  const voterOf = (voterId: string) => {
    const known = voters.get(voterId) ?? { unconfirmed: [] };
    voters.set(voterId, known);
    return known;
  };
  for (const vote of record.acknowledged) {
    const voter = voterOf(vote.voterId ?? '');
    if (voter.last === undefined || vote.sequence > voter.last.sequence) voter.last = vote;
  }
  const possible: { options: Set<VoteOption>; maybeNone: boolean }[] = [];
  for (const vote of record.unconfirmed) {
    // A first vote without an answer may have created a voter the run never learned of.
    if (vote.voterId === undefined)
      possible.push({ options: new Set([vote.option]), maybeNone: true });
    else voterOf(vote.voterId).unconfirmed.push(vote.option);
  }
  for (const { last, unconfirmed } of voters.values()) {
    const options = new Set(unconfirmed);
    if (last !== undefined) options.add(last.option);
    possible.push({ options, maybeNone: last === undefined });
  }

  const bounds = Object.fromEntries(
    voteOptions.map((option) => [option, { min: baseline[option], max: baseline[option] }]),
  ) as TallyBounds;
  for (const { options, maybeNone } of possible) {
    for (const option of options) {
      bounds[option].max += 1;
      if (options.size === 1 && !maybeNone) bounds[option].min += 1;
    }
  }
  return bounds;
}

/** One line per option whose stored count lies outside its bounds. */
export function tallyDifferences(bounds: TallyBounds, stored: VoteCounts): string[] {
  return voteOptions.flatMap((option) => {
    const { min, max } = bounds[option];
    const count = stored[option];
    if (count >= min && count <= max) return [];
    const expected = min === max ? String(min) : `${min} to ${max}`;
    const gap = count < min ? `${min - count} missing` : `${count - max} too many`;
    return [`option ${option}: expected ${expected}, stored ${count} (${gap})`];
  });
}

/** Reads the tally until it lies within `bounds` or the deadline passes; reports the last read. */
async function awaitTally(
  tallyUrl: URL,
  bounds: TallyBounds,
  record: RunRecord<CastVote>,
  context: ScenarioContext,
  { deadline, pollIntervalMs }: { deadline: number; pollIntervalMs: number },
): Promise<VerificationResult> {
  const expected = Object.fromEntries(
    voteOptions.map((option) => {
      const { min, max } = bounds[option];
      return [option, min === max ? min : `${min} to ${max}`];
    }),
  );
  for (;;) {
    let stored: VoteCounts | undefined;
    let differences: string[];
    try {
      stored = await readTally(tallyUrl, context);
      differences = tallyDifferences(bounds, stored);
    } catch (error) {
      differences = [`the result service did not answer: ${errorReason(error)}`];
    }
    if (differences.length === 0 || Date.now() >= deadline || context.signal.aborted) {
      const late =
        stored === undefined || differences.length === 0
          ? []
          : [`the tally still differed when the wait ended (--settle-timeout)`];
      return {
        ok: differences.length === 0,
        checked: record.acknowledged.length,
        expected,
        ...(stored === undefined ? {} : { stored }),
        differences: [...differences, ...late],
      };
    }
    await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())), undefined, {
      signal: context.signal,
    }).catch(() => undefined);
  }
}

/** `GET /api/results`, reduced to the count per option. */
async function readTally(tallyUrl: URL, context: ScenarioContext): Promise<VoteCounts> {
  const response = await request(tallyUrl, { dispatcher: context.http, signal: context.signal });
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw new Error(`GET ${tallyUrl.href} answered ${response.statusCode}`);
  }
  const body: unknown = await response.body.json();
  const counts: Partial<VoteCounts> = {};
  const entries = (body as { options?: unknown }).options;
  for (const entry of Array.isArray(entries) ? (entries as unknown[]) : []) {
    const { option, votes } = (entry ?? {}) as { option?: unknown; votes?: unknown };
    if (isVoteOption(option) && typeof votes === 'number') counts[option] = votes;
  }
  if (voteOptions.some((option) => counts[option] === undefined)) {
    throw new Error(`GET ${tallyUrl.href} did not give a count for every option`);
  }
  return counts as VoteCounts;
}

/** Which store the result service reads the tally from, as the report names it. */
async function readStore(resultUrl: URL, context: ScenarioContext): Promise<string> {
  const through = `result at ${resultUrl.href}`;
  try {
    const response = await request(new URL('/api/verify/store', resultUrl), {
      dispatcher: context.http,
      signal: context.signal,
    });
    const body: unknown = response.statusCode === 200 ? await response.body.json() : undefined;
    if (response.statusCode !== 200) await response.body.dump();
    const store = (body as { store?: unknown } | undefined)?.store;
    if (typeof store === 'string') return describeStore(store, through);
  } catch {
    // An older result service, or one gone after the tally was read: say so instead.
  }
  return `the result service's tally (it did not say which store), read through ${through}`;
}

function parseResultUrl(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new UsageError(`--result-url "${raw}" is not a URL such as http://127.0.0.1:8081/`);
  }
}

function isVoteAnswer(value: unknown): value is { voter_id: string; vote: VoteOption } {
  const { voter_id: voterId, vote } = (value ?? {}) as { voter_id?: unknown; vote?: unknown };
  return typeof voterId === 'string' && voterId !== '' && isVoteOption(vote);
}

function voterCookie(setCookie: string | string[] | undefined): string | undefined {
  const cookies = typeof setCookie === 'string' ? [setCookie] : (setCookie ?? []);
  return cookies.find((cookie) => cookie.startsWith('voter_id='))?.split(';')[0];
}

export const votingLoadProfile: LoadProfile = {
  system: 'voting',
  description:
    'Simulated voters (one voter_id cookie each) POST random votes to the vote service; then ' +
    "the result service's tally must equal the tally before the run plus each voter's last " +
    'acknowledged vote (exit 3 otherwise).',
  defaultUrl: (env) => env.AGORA_VOTE_URL ?? 'http://127.0.0.1:8080/',
  addOptions(command) {
    command
      .addOption(
        new Option('--result-url <url>', 'where the result service answers GET /api/results')
          .env('AGORA_RESULT_URL')
          .default('http://127.0.0.1:8081/'),
      )
      .addOption(
        new Option(
          '--settle-timeout <time>',
          'how long verification waits for the tally to show every acknowledged vote',
        )
          .argParser(parseDuration)
          .default(30_000, '30s'),
      );
  },
  createScenario(run, own) {
    const settleTimeoutMs = typeof own.settleTimeout === 'number' ? own.settleTimeout : 30_000;
    return votingScenario({
      resultUrl: parseResultUrl(String(own.resultUrl)),
      // Leave the core's --verify-timeout room to report what this step found.
      settleTimeoutMs: Math.min(settleTimeoutMs, Math.max(0, run.verifyTimeoutMs - 5_000)),
    });
  },
};
