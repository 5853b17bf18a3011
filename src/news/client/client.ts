/**
 * The news client library: agent operations, and node operations routed through the agent.
 * When a node is unreachable it asks the agent again, naming the node, so the agent checks it
 * and routes elsewhere; `wrong_node` (the area moved) and `no_node` are retried the same way
 * until a deadline. Posts carry a key, so a retried post is stored once.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { backoffDelay } from '../../platform/backoff.js';
import { callNews, UnreachableError } from '../frame-client.js';
import {
  type AreaView,
  type LoginResult,
  maxNewsPerRead,
  NewsError,
  type NewsView,
  type RouteResult,
  type UserView,
} from '../protocol.js';
import type { ClientTls } from '../tls.js';

export const defaultAgentAddress = '127.0.0.1:8000';

export interface NewsClientOptions {
  agent: string;
  /** Other agents of the same deployment, asked in turn when one does not answer. */
  moreAgents?: readonly string[];
  /**
   * How this client reaches a node's advertised address (a port published for it, a NAT);
   * the agent keeps knowing the node by its advertised one. By default, as advertised.
   */
  reach?: (node: string) => string;
  token?: string;
  /** How long one node operation keeps retrying through the agent. */
  retryForMs?: number;
  /** Timeout of one request. */
  timeoutMs?: number;
  /**
   * TLS to the agent and the nodes, verifying their certificates; default: on (system CAs)
   * when the agent's address starts with tls://, else plain TCP.
   */
  tls?: ClientTls | undefined;
}

type Target = { area: string } | { news: string };

export class NewsClient {
  /** The agent asked first: the last one that answered. */
  agent: string;
  token: string | undefined;
  readonly #agents: readonly string[];
  readonly #reach: (node: string) => string;
  readonly #retryForMs: number;
  readonly #timeoutMs: number;
  readonly #tls: ClientTls | undefined;

  constructor(options: NewsClientOptions) {
    this.agent = options.agent;
    this.#agents = [options.agent, ...(options.moreAgents ?? [])];
    this.#reach = options.reach ?? ((node) => node);
    this.token = options.token;
    this.#retryForMs = options.retryForMs ?? 10_000;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#tls = options.tls ?? (options.agent.startsWith('tls://') ? {} : undefined);
  }

  /**
   * Asks the current agent; one that does not answer is passed over for the next, unless the
   * operation must not run twice (`register`: an agent that got it but answered late may have
   * registered the name).
   */
  async #callAgent<T>(
    op: string,
    fields: Record<string, unknown> = {},
    { repeatable = true } = {},
  ): Promise<T> {
    const start = this.#agents.indexOf(this.agent);
    const tries = repeatable ? this.#agents.length : 1;
    for (let tried = 0; ; tried++) {
      const agent = this.#agents[(start + tried) % this.#agents.length] ?? this.agent;
      try {
        const result = await callNews<T>(
          agent,
          { op, token: this.token, ...fields },
          { timeoutMs: this.#timeoutMs, tls: this.#tls },
        );
        this.agent = agent;
        return result;
      } catch (error) {
        if (!(error instanceof UnreachableError) || tried + 1 >= tries) throw error;
      }
    }
  }

  async register(name: string, password: string): Promise<LoginResult> {
    const result = await this.#callAgent<LoginResult>(
      'register',
      { name, password },
      { repeatable: false },
    );
    this.token = result.token;
    return result;
  }

  async login(name: string, password: string): Promise<LoginResult> {
    const result = await this.#callAgent<LoginResult>('login', { name, password });
    this.token = result.token;
    return result;
  }

  async logout(): Promise<void> {
    await this.#callAgent('logout');
    this.token = undefined;
  }

  /** Ends every session of this user, on every device ("log out everywhere"). */
  async logoutEverywhere(): Promise<void> {
    await this.#callAgent('logout_all');
    this.token = undefined;
  }

  whoami(): Promise<UserView> {
    return this.#callAgent('whoami');
  }

  areas(): Promise<AreaView[]> {
    return this.#callAgent('areas');
  }

  myAreas(): Promise<AreaView[]> {
    return this.#callAgent('my_areas');
  }

  addArea(name: string): Promise<{ area: string }> {
    return this.#callAgent('add_area', { name });
  }

  removeArea(name: string): Promise<{ removed: string }> {
    return this.#callAgent('remove_area', { name });
  }

  route(target: Target, failed: readonly string[] = []): Promise<RouteResult> {
    return this.#callAgent('route', { ...target, failed });
  }

  subscribe(area: string): Promise<{ subscribed: boolean; changed: boolean }> {
    return this.#onNode({ area }, 'subscribe', { area });
  }

  unsubscribe(area: string): Promise<{ subscribed: boolean; changed: boolean }> {
    return this.#onNode({ area }, 'unsubscribe', { area });
  }

  /** Every news item of the area (or every unread one), a page of up to 500 at a time. */
  async read(area: string, unread = false): Promise<NewsView[]> {
    const all: NewsView[] = [];
    for (;;) {
      const after = all.at(-1)?.id;
      const page = await this.#onNode<NewsView[]>({ area }, 'news', { area, unread, after });
      all.push(...page);
      if (page.length < maxNewsPerRead) return all;
    }
  }

  post(area: string, text: string, key: string = randomUUID()): Promise<NewsView> {
    return this.#onNode({ area }, 'post', { area, text, key });
  }

  delete(newsId: string): Promise<{ deleted: string; area: string }> {
    return this.#onNode({ news: newsId }, 'delete', { news: newsId });
  }

  /** Asks the agent which node serves the target, then the node; retries as the header says. */
  async #onNode<T>(target: Target, op: string, fields: Record<string, unknown>): Promise<T> {
    const deadline = Date.now() + this.#retryForMs;
    const failed = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      try {
        const { node } = await this.route(target, [...failed]);
        try {
          return await callNews<T>(
            this.#reach(node),
            { op, token: this.token, ...fields },
            { timeoutMs: this.#timeoutMs, tls: this.#tls },
          );
        } catch (error) {
          if (error instanceof UnreachableError) failed.add(node);
          throw error;
        }
      } catch (error) {
        if (!retryable(error) || Date.now() >= deadline) throw error;
        // A dead node reported to the agent is moved at once: retry without waiting.
        if (!(error instanceof UnreachableError) || attempt > 2) {
          await sleep(Math.min(backoffDelay(attempt, { initialMs: 50, maxMs: 500 }), 500));
        }
      }
    }
  }
}

function retryable(error: unknown): boolean {
  if (!(error instanceof NewsError)) return false;
  return ['unavailable', 'wrong_node', 'no_node', 'busy'].includes(error.code);
}
