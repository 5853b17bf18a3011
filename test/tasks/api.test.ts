/**
 * The tasks service as a process against real Postgres: every route, its validation (400 naming
 * the field, 404, 413, malformed JSON, unknown fields), the /tareas alias, idempotency keys
 * (also raced), /status and /docs, and the `agora tasks` commands against it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PgSql } from '../../src/platform/sql/index.js';
import type { StatusReport, Task, TaskPage } from '../../src/tasks/protocol.js';
import { testDatabaseUrl, uniqueName } from '../support/backends.js';
import {
  freePort,
  killAll,
  type ManagedProcess,
  startAgora,
  waitForHttp,
} from '../support/processes.js';

const schema = uniqueName('tasks_api');
const sql = new PgSql({ url: testDatabaseUrl, schema });
const env = {
  ...process.env,
  DATABASE_URL: testDatabaseUrl,
  AGORA_DB_SCHEMA: schema,
  LOG_LEVEL: 'warn',
};
let base: string;
let service: ManagedProcess;

beforeAll(async () => {
  const port = await freePort();
  service = startAgora(['run', 'tasks', '--port', String(port)], {
    env: { ...env, LOG_FORMAT: 'json' },
  });
  base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/readyz`, { timeoutMs: 30_000 });
});

afterAll(async () => {
  await killAll();
  await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sql.close();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}, at = base) {
  return fetch(`${at}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function patch(path: string, body: unknown) {
  return fetch(`${base}${path}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function storedCount(): Promise<number> {
  const { rows } = await sql.query<{ count: number }>('SELECT count(*)::int AS count FROM tasks');
  return rows[0]?.count ?? 0;
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

describe('creating and reading tasks', () => {
  it('answers 201 with the task once its row is committed', async () => {
    const response = await post('/tasks', { title: 'Comprar pan', description: 'integral' });
    expect(response.status).toBe(201);
    const task = (await response.json()) as Task;
    expect(task).toMatchObject({
      title: 'Comprar pan',
      description: 'integral',
      status: 'pending',
      done: false,
      client_id: null,
      idempotency_key: null,
    });
    expect(response.headers.get('location')).toBe(`/tasks/${task.id}`);
    // Another connection sees it at once: the answer came after the commit.
    const { rows } = await sql.query<{ title: string }>('SELECT title FROM tasks WHERE id = $1', [
      task.id,
    ]);
    expect(rows).toEqual([{ title: 'Comprar pan' }]);
    const read = await fetch(`${base}/tasks/${task.id}`);
    expect(await read.json()).toEqual(task);
  });

  it("serves the seed's /tareas as an alias of every route", async () => {
    const created = await post('/tareas', { title: 'Lavar ropa' });
    expect(created.status).toBe(201);
    const task = (await created.json()) as Task;
    expect(created.headers.get('location')).toBe(`/tareas/${task.id}`);
    expect(((await (await fetch(`${base}/tareas/${task.id}`)).json()) as Task).title).toBe(
      'Lavar ropa',
    );
    const page = (await (await fetch(`${base}/tareas?limit=1`)).json()) as TaskPage;
    expect(page.tasks[0]?.id).toBe(task.id);
    expect((await patch(`/tareas/${task.id}`, { done: true })).status).toBe(200);
    expect((await fetch(`${base}/tareas/${task.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('lists newest first, pages with ?before=, and filters by status and client', async () => {
    const client = uniqueName('client');
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const response = await post('/tasks', { title: `t${i}` }, { 'x-client-id': client });
      ids.push(((await response.json()) as Task).id);
    }
    const first = (await (
      await fetch(`${base}/tasks?client=${client}&limit=2`)
    ).json()) as TaskPage;
    expect(first.tasks.map((task) => task.title)).toEqual(['t5', 't4']);
    expect(first.next).toBe(ids[3]);
    const second = (await (
      await fetch(`${base}/tasks?client=${client}&limit=2&before=${first.next}`)
    ).json()) as TaskPage;
    expect(second.tasks.map((task) => task.title)).toEqual(['t3', 't2']);
    const last = (await (
      await fetch(`${base}/tasks?client=${client}&limit=2&before=${second.next}`)
    ).json()) as TaskPage;
    expect(last).toMatchObject({ tasks: [{ title: 't1', client_id: client }], next: null });

    await patch(`/tasks/${ids[1]}`, { done: true });
    const done = (await (
      await fetch(`${base}/tasks?client=${client}&status=done`)
    ).json()) as TaskPage;
    expect(done.tasks.map((task) => task.id)).toEqual([ids[1]]);
    const pending = (await (
      await fetch(`${base}/tasks?client=${client}&status=pending`)
    ).json()) as TaskPage;
    expect(pending.tasks).toHaveLength(4);
  });

  it('changes title, description and done with PATCH, and deletes with DELETE', async () => {
    const task = (await (await post('/tasks', { title: 'old' })).json()) as Task;
    const changed = await patch(`/tasks/${task.id}`, {
      title: 'new',
      description: 'more',
      done: true,
    });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({
      id: task.id,
      title: 'new',
      description: 'more',
      done: true,
      status: 'done',
    });
    expect((await fetch(`${base}/tasks/${task.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${base}/tasks/${task.id}`)).status).toBe(404);
  });
});

describe('refusing what is wrong, with nothing written', () => {
  const big = 'x'.repeat(20_000);
  it.each([
    [
      'a missing title',
      'POST',
      '/tasks',
      {},
      400,
      'invalid_request',
      'body: missing field "title"',
    ],
    [
      'a title of the wrong type',
      'POST',
      '/tasks',
      { title: { text: 'a' } },
      400,
      'invalid_request',
      'The field "title"',
    ],
    [
      'an empty title',
      'POST',
      '/tasks',
      { title: '' },
      400,
      'invalid_request',
      'The field "title"',
    ],
    [
      'a blank title',
      'POST',
      '/tasks',
      { title: '   ' },
      400,
      'invalid_request',
      'The field "title"',
    ],
    [
      'a title too long',
      'POST',
      '/tasks',
      { title: 'x'.repeat(201) },
      400,
      'invalid_request',
      'The field "title"',
    ],
    [
      'an unknown field',
      'POST',
      '/tasks',
      { title: 'a', done: true },
      400,
      'invalid_request',
      'unknown field "done"',
    ],
    ['malformed JSON', 'POST', '/tasks', '{"title":', 400, 'malformed_json', 'not valid JSON'],
    [
      'a body over the limit',
      'POST',
      '/tasks',
      { title: 'a', description: big },
      413,
      'payload_too_large',
      '',
    ],
    ['a PATCH with nothing to change', 'PATCH', '/tasks/1', {}, 400, 'invalid_request', 'body'],
    [
      'a PATCH with an unknown field',
      'PATCH',
      '/tasks/1',
      { status: 'done' },
      400,
      'invalid_request',
      'unknown field "status"',
    ],
    [
      'a PATCH with done not a boolean',
      'PATCH',
      '/tasks/1',
      { done: 'yes' },
      400,
      'invalid_request',
      'The field "done" must be a boolean.',
    ],
    [
      'an id that is not a number',
      'GET',
      '/tasks/abc',
      undefined,
      400,
      'invalid_request',
      'The path parameter "id" must be a whole number in decimal digits.',
    ],
    [
      'an unknown status filter',
      'GET',
      '/tasks?status=later',
      undefined,
      400,
      'invalid_request',
      'The query parameter "status" is not one of',
    ],
    [
      'an unknown query field',
      'GET',
      '/tasks?sort=asc',
      undefined,
      400,
      'invalid_request',
      'unknown field "sort"',
    ],
    [
      'a limit too large',
      'GET',
      '/tasks?limit=5000',
      undefined,
      400,
      'invalid_request',
      'The query parameter "limit" must be at most',
    ],
    [
      'a missing task',
      'GET',
      '/tasks/999999',
      undefined,
      404,
      'not_found',
      'No task with id 999999',
    ],
    [
      'PATCH of a missing task',
      'PATCH',
      '/tasks/999999',
      { done: true },
      404,
      'not_found',
      '999999',
    ],
    ['DELETE of a missing task', 'DELETE', '/tasks/999999', undefined, 404, 'not_found', '999999'],
    ['an unknown route', 'GET', '/tasks/1/comments', undefined, 404, 'not_found', 'No route'],
    ...(
      [
        [
          'a NUL byte in the title',
          { title: 'a\u0000b' },
          'The field "title" must hold text and no control',
        ],
        ['an escape in the title', { title: '\u001b[31mred' }, 'The field "title" must hold text'],
        ['a newline in the title', { title: 'two\nlines' }, 'The field "title" must hold text'],
        ['a C1 control in the title', { title: 'a\u0085b' }, 'The field "title" must hold text'],
        [
          'a NUL in the description',
          { title: 'a', description: 'x\u0000' },
          'The field "description"',
        ],
        ['a boolean title', { title: true }, 'The field "title" must be a string.'],
        ['a numeric title', { title: 3 }, 'The field "title" must be a string.'],
      ] as const
    ).map(
      ([name, body, message]) =>
        [name, 'POST', '/tasks', body, 400, 'invalid_request', message] as const,
    ),
    ...(
      [
        ['done as the text "true"', { done: 'true' }],
        ['done as 0', { done: 0 }],
        ['done as null', { done: null }],
      ] as const
    ).map(
      ([name, body]) =>
        [
          name,
          'PATCH',
          '/tasks/1',
          body,
          400,
          'invalid_request',
          'The field "done" must be a boolean.',
        ] as const,
    ),
    ...['0x10', '16.0', '1e1', '%2016'].map(
      (id) =>
        [
          `the id ${id}, not decimal digits`,
          'GET',
          `/tasks/${id}`,
          undefined,
          400,
          'invalid_request',
          'The path parameter "id" must be a whole number in decimal digits.',
        ] as const,
    ),
    [
      'a limit in hexadecimal',
      'GET',
      '/tasks?limit=0x10',
      undefined,
      400,
      'invalid_request',
      'The query parameter "limit" must be a whole number in decimal digits.',
    ],
  ] as const)('%s', async (_name, method, path, body, status, code, message) => {
    const before = await storedCount();
    const response = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : {
            headers: { 'content-type': 'application/json' },
            body: typeof body === 'string' ? body : JSON.stringify(body),
          }),
    });
    expect(response.status).toBe(status);
    const error = await errorOf(response);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    expect(await storedCount()).toBe(before);
  });

  it('refuses an Idempotency-Key without X-Client-Id, so two clients cannot share a key', async () => {
    const before = await storedCount();
    const response = await post('/tasks', { title: 'a' }, { 'idempotency-key': 'shared' });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toEqual({
      code: 'client_id_required',
      message: 'Idempotency-Key needs X-Client-Id: keys are scoped by the client that sends them.',
    });
    expect(await storedCount()).toBe(before);
  });

  it('logs refused input at no error level: the service wrote no error line', () => {
    expect(service.output()).not.toMatch(/"level":50|request failed/);
  });

  it('refuses a malformed Idempotency-Key or X-Client-Id, naming the header', async () => {
    const key = await post('/tasks', { title: 'a' }, { 'idempotency-key': 'has spaces' });
    expect(key.status).toBe(400);
    expect((await errorOf(key)).message).toContain('The header "idempotency-key"');
    const client = await post('/tasks', { title: 'a' }, { 'x-client-id': 'x'.repeat(200) });
    expect((await errorOf(client)).message).toContain('The header "x-client-id"');
  });

  it('refuses a body that is not JSON with 415', async () => {
    const response = await fetch(`${base}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<title>a</title>',
    });
    expect(response.status).toBe(415);
  });
});

describe('idempotency keys', () => {
  it('gives the same task for the same key twice, and says it is a replay', async () => {
    const headers = { 'idempotency-key': 'same-key', 'x-client-id': 'idem-client' };
    const first = await post('/tasks', { title: 'once' }, headers);
    const second = await post('/tasks', { title: 'once' }, headers);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(((await second.json()) as Task).id).toBe(((await first.json()) as Task).id);
  });

  it('makes one task of 30 concurrent requests with one key', async () => {
    const headers = { 'idempotency-key': 'raced', 'x-client-id': 'racer' };
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => post('/tasks', { title: 'raced' }, headers)),
    );
    const ids = await Promise.all(
      responses.map(async (response) => {
        expect(response.status).toBe(201);
        return ((await response.json()) as Task).id;
      }),
    );
    expect(new Set(ids).size).toBe(1);
    const { rows } = await sql.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM tasks WHERE client_id = 'racer'",
    );
    expect(rows[0]?.count).toBe(1);
  });

  it('scopes keys by client, and refuses a key reused for a different task', async () => {
    const a = await post('/tasks', { title: 'x' }, { 'idempotency-key': 'k', 'x-client-id': 'a' });
    const b = await post('/tasks', { title: 'x' }, { 'idempotency-key': 'k', 'x-client-id': 'b' });
    expect(((await a.json()) as Task).id).not.toBe(((await b.json()) as Task).id);
    const reused = await post(
      '/tasks',
      { title: 'something else' },
      { 'idempotency-key': 'k', 'x-client-id': 'a' },
    );
    expect(reused.status).toBe(422);
    expect((await errorOf(reused)).code).toBe('idempotency_key_reused');
  });
});

describe('monitoring and documentation', () => {
  it('reports counts by status, answers by status code, instance and uptime on /status', async () => {
    const report = (await (await fetch(`${base}/status`)).json()) as StatusReport;
    const { rows } = await sql.query<{ done: boolean; count: number }>(
      'SELECT done, count(*)::int AS count FROM tasks GROUP BY done',
    );
    const count = (done: boolean) => rows.find((row) => row.done === done)?.count ?? 0;
    expect(report.tasks).toEqual({
      pending: count(false),
      done: count(true),
      total: count(false) + count(true),
    });
    expect(report.requests['201']).toBeGreaterThan(0);
    expect(report.errors['400']).toBeGreaterThan(0);
    expect(report.errors['404']).toBeGreaterThan(0);
    expect(report.errors['201']).toBeUndefined();
    expect(report.instance).toContain(String(report.pid));
    expect(report.uptime_seconds).toBeGreaterThan(0);
  });

  it('answers its root, the URL agora up lists, with links to every route, and has an icon', async () => {
    const index = (await (await fetch(`${base}/`)).json()) as { links: Record<string, string> };
    expect(index.links).toEqual({
      tasks: '/tasks',
      tareas: '/tareas',
      status: '/status',
      docs: '/docs',
    });
    for (const path of Object.values(index.links)) {
      expect((await fetch(`${base}${path}`)).status).toBe(200);
    }
    const icon = await fetch(`${base}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toContain('image/svg+xml');
  });

  it('serves the OpenAPI document and its UI at /docs', async () => {
    const document = (await (await fetch(`${base}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/tasks', '/tasks/{id}', '/tareas', '/tareas/{id}', '/status']),
    );
    const page = await fetch(`${base}/docs/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });
});

describe('the agora tasks commands', () => {
  async function agora(args: readonly string[]) {
    const child = startAgora(args, { env: { ...env, AGORA_TASKS_URL: base } });
    const exit = await child.exited;
    return { code: exit.code, stdout: child.stdout(), stderr: child.stderr() };
  }

  it("adds, lists and marks done, as the seed's console program did", async () => {
    const added = await agora(['tasks', 'add', 'Estudiar', '--client', 'console']);
    expect(added.code).toBe(0);
    const id = Number(/added task (\d+): Estudiar/.exec(added.stdout)?.[1]);
    const done = await agora(['tasks', 'done', String(id)]);
    expect(done.stdout).toContain(`task ${id} is done`);
    const after = await agora(['tasks', 'list', '--client', 'console', '--status', 'done']);
    expect(after.stdout).toMatch(new RegExp(`${id}\\s+done\\s+Estudiar\\s+console`));
  });

  it('says so when no task matches, instead of printing an empty table', async () => {
    const none = await agora(['tasks', 'list', '--client', 'nobody-has-this-id']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('No tasks match these filters.\n');
  });

  it('emulates two clients and passes the verdict', async () => {
    const run = await agora(['tasks', 'emulate', '--clients', '2', '--tasks', '50']);
    expect(run.stdout).toContain('PASS: all 100 tasks acknowledged and stored exactly once');
    expect(run.code).toBe(0);
  });

  it('says in one line, exit 1, when the service refuses or is not there', async () => {
    const port = await freePort();
    const [missing, away] = await Promise.all([
      agora(['tasks', 'done', '999999']),
      agora(['tasks', 'list', '--url', `http://127.0.0.1:${port}`]),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^agora: the service refused: No task with id 999999/);
    expect(away.code).toBe(1);
    expect(away.stderr).toContain('cannot reach the tasks service');
  });

  it('exits 2 with one error line on usage errors, and has --help', async () => {
    const usage = [
      ['tasks', 'done', 'abc'],
      ['tasks', 'emulate', '--clients', '0'],
      ['tasks', 'list', '--status', 'later'],
      ['tasks', 'add'],
      ['tasks', 'list', '--url', 'ftp://x'],
      // --cluster is only for services declared shared-port, over shared backends.
      ['run', 'counter', '--cluster', '2'],
      ['run', 'tasks', '--cluster', '2', '--embedded'],
      ['run', 'tasks', '--cluster', '0'],
    ];
    const help = [
      ['tasks', '--help'],
      ['tasks', 'emulate', '--help'],
    ];
    // Side by side: each is a Node start, seconds on a loaded machine.
    const [usageRuns, helpRuns] = await Promise.all([
      Promise.all(usage.map((args) => agora(args))),
      Promise.all(help.map((args) => agora(args))),
    ]);
    usageRuns.forEach((run, index) => {
      expect({ args: usage[index], code: run.code }).toEqual({ args: usage[index], code: 2 });
      expect(run.stderr).toMatch(/error:|agora: /);
    });
    expect(usageRuns[0]?.stderr.trim()).toBe(
      "error: command-argument value 'abc' is invalid for argument 'id'. a task id is a whole " +
        'number such as 42, as the id column of `agora tasks list` shows.',
    );
    expect(usageRuns[5]?.stderr).toContain("does not declare scaling: 'shared-port'");
    expect(usageRuns[6]?.stderr).toContain('--cluster cannot use --embedded');
    for (const run of helpRuns) {
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Usage: agora tasks');
    }
    expect(helpRuns[0]?.stdout).toMatch(/emulate[\s\S]*add[\s\S]*list[\s\S]*done/);
  });
});
