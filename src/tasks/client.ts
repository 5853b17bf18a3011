/**
 * An HTTP client of the task API over one undici connection pool, used by the `agora tasks`
 * commands and the emulator. It makes one attempt per call: retrying is the caller's choice.
 */
import { Pool } from 'undici';

import {
  clientIdHeader,
  idempotencyKeyHeader,
  replayedHeader,
  type Task,
  type TaskPage,
  type TaskStatus,
} from './protocol.js';

/** The service answered with an error: its status and `{ error: { code, message } }`. */
export class TasksApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TasksApiError';
  }
}

export interface ClientOptions {
  /** Connections kept open to the service; requests beyond that queue. */
  connections?: number;
  /** Sent as X-Client-Id on every POST. */
  clientId?: string;
  /** A request with no answer within this is abandoned (and may be retried). */
  timeoutMs?: number;
}

export interface CreateResult {
  task: Task;
  /** True when the service answered from an earlier attempt with the same key. */
  replayed: boolean;
}

export interface ListQuery {
  status?: TaskStatus;
  client?: string;
  before?: number;
  limit?: number;
}

/** The largest page the service gives. */
const maxPage = 1_000;

export class TasksClient {
  readonly url: string;
  readonly #pool: Pool;
  readonly #clientId: string | undefined;

  constructor(url: string, options: ClientOptions = {}) {
    this.url = url;
    const timeout = options.timeoutMs ?? 30_000;
    this.#pool = new Pool(new URL(url).origin, {
      connections: options.connections ?? 8,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    this.#clientId = options.clientId;
  }

  async create(
    title: string,
    options: { description?: string; idempotencyKey?: string } = {},
  ): Promise<CreateResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#clientId !== undefined) headers[clientIdHeader] = this.#clientId;
    if (options.idempotencyKey !== undefined) {
      headers[idempotencyKeyHeader] = options.idempotencyKey;
    }
    const body = JSON.stringify(
      options.description === undefined ? { title } : { title, description: options.description },
    );
    const response = await this.#pool.request({ path: '/tasks', method: 'POST', headers, body });
    const task = await readJson<Task>(response.statusCode, response.body, 201);
    return { task, replayed: response.headers[replayedHeader] === 'true' };
  }

  async list(query: ListQuery = {}): Promise<TaskPage> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) search.set(name, String(value));
    }
    const suffix = search.size === 0 ? '' : `?${search.toString()}`;
    const response = await this.#pool.request({ path: `/tasks${suffix}`, method: 'GET' });
    return readJson<TaskPage>(response.statusCode, response.body, 200);
  }

  /** Every task matching `query`, following the pages to the oldest. */
  async listAll(query: Omit<ListQuery, 'before' | 'limit'> = {}): Promise<Task[]> {
    const tasks: Task[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await this.list({ ...query, limit: maxPage, before });
      tasks.push(...page.tasks);
      if (page.next === null) return tasks;
      before = page.next;
    }
  }

  async update(
    id: number,
    changes: { title?: string; description?: string; done?: boolean },
  ): Promise<Task> {
    const response = await this.#pool.request({
      path: `/tasks/${id}`,
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(changes),
    });
    return readJson<Task>(response.statusCode, response.body, 200);
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

interface Body {
  text(): Promise<string>;
}

async function readJson<T>(status: number, body: Body, expected: number): Promise<T> {
  const text = await body.text();
  if (status === expected) return JSON.parse(text) as T;
  let code = 'http_error';
  let message = `the service answered ${status}`;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    code = parsed.error?.code ?? code;
    message = parsed.error?.message ?? message;
  } catch {
    // Not our JSON (a proxy's page, say): keep the status alone.
  }
  throw new TasksApiError(status, code, message);
}
