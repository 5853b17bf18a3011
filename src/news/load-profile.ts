/**
 * `agora load news`: readers registered and subscribed before the run post news through the
 * agent and the nodes, each post with its own key; afterwards every area is read back and each
 * acknowledged post must be stored once, with its text.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { InvalidArgumentError, Option } from 'commander';

import type { LoadProfile } from '../load/command.js';
import {
  errorReason,
  type Outcome,
  type RunRecord,
  type Scenario,
  type VerificationResult,
} from '../load/scenario.js';
import { backoffDelay } from '../platform/backoff.js';
import { UsageError } from '../platform/errors.js';
import { defaultAgentAddress, NewsClient } from './client/client.js';
import { NewsError, type NewsView } from './protocol.js';

/** One post as the run saw it; `id` only once acknowledged. */
export interface SentPost {
  area: string;
  author: string;
  text: string;
  id?: string;
}

/** A simulated user: it posts as one of the run's readers (accounts), in its own numbering. */
interface SimulatedUser {
  name: string;
  reader: NewsClient;
  author: string;
  sent: number;
}

export interface NewsLoadOptions {
  /** The agent, as NewsClient takes it (`tcp://host:port`, `tls://host:port`). */
  agent: string;
  /** Areas to post to; default: every area the agent lists. */
  areas: readonly string[] | undefined;
  /** Accounts registered and subscribed before the run; users post as them in turn. */
  readers: number;
  /** How long one operation may take, retries through the agent included. */
  timeoutMs: number;
}

const route = 'post';
/**
 * Codes after which a post may have been stored: the answer, not the write, was lost. An
 * `unavailable` too (an unreachable node is one), when Postgres committed the insert and died
 * before answering.
 */
const unknownOutcome = new Set(['timeout', 'internal', 'unavailable']);

/** Whether a failed post may still have been stored: anything but a refusal by code. */
export function mayBeStored(error: unknown): boolean {
  return !(error instanceof NewsError) || unknownOutcome.has(error.code);
}

export function newsScenario(options: NewsLoadOptions): Scenario<SimulatedUser, SentPost> {
  // Readers of this run only: their names mark their posts among everyone else's.
  const run = `load-${randomBytes(4).toString('hex')}`;
  const clientOf = () =>
    new NewsClient({
      agent: options.agent,
      retryForMs: options.timeoutMs,
      timeoutMs: Math.min(5_000, options.timeoutMs),
    });
  const verifier = clientOf();
  const readers: { name: string; client: NewsClient }[] = [];
  let areas: readonly string[] = [];

  return {
    name: 'news',
    routes: [route],
    // Accounts and subscriptions are set up before the load (password hashing is slow on
    // purpose, and bounded): the run measures posts.
    async prepare() {
      await verifier.register(`${run}-verifier`, randomBytes(12).toString('hex'));
      const listed = (await verifier.areas()).map((area) => area.name);
      areas = options.areas ?? listed;
      const missing = areas.filter((area) => !listed.includes(area));
      if (areas.length === 0 || missing.length > 0) {
        throw new UsageError(
          areas.length === 0
            ? 'no news area to post to: an admin adds one (agora news admin add-area <name>)'
            : `no news area named ${missing.join(', ')}; there are: ${listed.join(', ') || 'none'}`,
        );
      }
      for (const area of areas) await verifier.subscribe(area);
      // One at a time: the agent checks a bounded number of passwords at once (`busy`).
      for (let index = 1; index <= options.readers; index++) {
        const reader = { name: `${run}-${index}`, client: clientOf() };
        await whileBusy(() => reader.client.register(reader.name, randomBytes(12).toString('hex')));
        for (const area of areas) await reader.client.subscribe(area);
        readers.push(reader);
      }
    },
    createUser: (index) => {
      const reader = readers[index % readers.length];
      if (reader === undefined) throw new Error('the readers were not registered');
      return { name: `u${index + 1}`, reader: reader.client, author: reader.name, sent: 0 };
    },
    async request(user): Promise<Outcome<SentPost>> {
      user.sent += 1;
      const post: SentPost = {
        area: areas[Math.floor(Math.random() * areas.length)] ?? '',
        author: user.author,
        text: `${user.author} ${user.name} #${user.sent}`,
      };
      try {
        // The key makes a post retried through the agent land once.
        const stored = await user.reader.post(post.area, post.text, `${user.name}-${user.sent}`);
        return { route, ok: true, acknowledged: { ...post, id: stored.id } };
      } catch (error) {
        return {
          route,
          ok: false,
          error: reasonOf(error),
          unconfirmed: mayBeStored(error) ? post : undefined,
        };
      }
    },
    async verify(record) {
      const stored: NewsView[] = [];
      for (const area of areas) {
        const news = await verifier.read(area);
        stored.push(...news.filter((item) => item.author.startsWith(`${run}-`)));
      }
      return {
        ...comparePosts(record, stored),
        store: `the news database, read through each area's node (via the agent at ${options.agent})`,
      };
    },
  };
}

/**
 * Each acknowledged post stored once, under its id and with its text; an unconfirmed one at
 * most once; none stored that the run saw refused.
 */
export function comparePosts(
  record: RunRecord<SentPost>,
  stored: readonly NewsView[],
): Omit<VerificationResult, 'store'> {
  const byText = new Map<string, NewsView[]>();
  for (const item of stored) byText.set(item.text, [...(byText.get(item.text) ?? []), item]);
  const differences: string[] = [];
  for (const [text, items] of byText) {
    if (items.length > 1) differences.push(`"${text}": stored ${items.length} times`);
  }
  for (const post of record.acknowledged) {
    const found = byText.get(post.text);
    if (found === undefined) {
      differences.push(
        `"${post.text}": acknowledged as news ${post.id} in ${post.area}, not stored`,
      );
    } else if (!found.some((item) => item.id === post.id && item.area === post.area)) {
      differences.push(
        `"${post.text}": acknowledged as news ${post.id}, stored as ${found[0]?.id}`,
      );
    }
  }
  const sent = new Set([...record.acknowledged, ...record.unconfirmed].map((post) => post.text));
  for (const text of byText.keys()) {
    if (!sent.has(text)) differences.push(`"${text}": stored, but its post was refused`);
  }
  return {
    ok: differences.length === 0,
    checked: record.acknowledged.length,
    expected: { acknowledged: record.acknowledged.length, unconfirmed: record.unconfirmed.length },
    stored: { news: stored.length },
    differences,
  };
}

/** Runs `register` again while the agent answers `busy` (other logins hold its checks). */
async function whileBusy<T>(work: () => Promise<T>, deadline = Date.now() + 30_000): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const busy = error instanceof NewsError && error.code === 'busy';
      if (!busy || Date.now() >= deadline) throw error;
      await sleep(backoffDelay(attempt, { initialMs: 100, maxMs: 1_000 }));
    }
  }
}

function reasonOf(error: unknown): string {
  return error instanceof NewsError ? error.code : errorReason(error);
}

/** `--url` as NewsClient takes the agent: `tcp://host:port` or `tls://host:port`. */
function agentOf(url: URL): string {
  if (url.protocol !== 'tcp:' && url.protocol !== 'tls:') {
    throw new UsageError(`--url "${url.href}" is not a news agent such as tcp://127.0.0.1:8000`);
  }
  return `${url.protocol}//${url.host}`;
}

export const newsLoadProfile: LoadProfile = {
  system: 'news',
  description:
    'Readers registered and subscribed before the run post news (each post with its own key) ' +
    'through the agent and the nodes; then every area is read back: each acknowledged post ' +
    'must be stored once, with its text (exit 3 otherwise).',
  defaultUrl: (env) => {
    const address = env.AGORA_NEWS_AGENT_URL ?? defaultAgentAddress;
    return /^[a-z]+:\/\//.test(address) ? address : `tcp://${address}`;
  },
  addOptions(command) {
    command
      .addOption(
        new Option('--areas <names>', 'areas to post to, comma-separated (default: every area)'),
      )
      .addOption(
        new Option('--readers <count>', 'accounts registered and subscribed before the run')
          .argParser((raw) => {
            const count = Number(raw);
            if (!Number.isInteger(count) || count < 1 || count > 1_000) {
              throw new InvalidArgumentError('expected a whole number from 1 to 1000.');
            }
            return count;
          })
          .default(10),
      );
  },
  createScenario(run, own) {
    const areas =
      typeof own.areas === 'string'
        ? own.areas
            .split(',')
            .map((area) => area.trim())
            .filter((area) => area !== '')
        : undefined;
    const readers = typeof own.readers === 'number' ? own.readers : 10;
    return newsScenario({ agent: agentOf(run.url), areas, readers, timeoutMs: run.timeoutMs });
  },
};
