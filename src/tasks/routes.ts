/**
 * The task routes, registered once under `/tasks` and once under the seed's `/tareas`.
 * Every write is committed before its answer is sent; the creates of one event-loop turn are
 * committed together (group commit), each answered after that commit.
 */
import { AgoraError, NotFoundError } from '../platform/errors.js';
import type { HttpServer } from '../platform/http/server.js';
import { GroupCommit } from '../platform/sql/group-commit.js';
import type { Sql } from '../platform/sql/sql.js';
import { clientIdHeader, idempotencyKeyHeader, replayedHeader } from './protocol.js';
import {
  createHeaders,
  errorSchema,
  idParams,
  listQuery,
  newTaskBody,
  taskChangesBody,
  taskPageSchema,
  taskSchema,
} from './schemas.js';
import { createTasks, deleteTask, findTask, listTasks, updateTask } from './task-store.js';

const defaultLimit = 50;
const errors = { 400: errorSchema, 404: errorSchema, 503: errorSchema };

export function addTaskRoutes(app: HttpServer, prefix: string, sql: Sql): void {
  const tags = ['tasks'];
  // One statement per batch, autocommitted: one round trip, not BEGIN, INSERT and COMMIT. One
  // batch in flight: the creates that arrive while it commits make the next, larger one. A
  // statement costs Postgres a few hundred microseconds whatever its size (planning, the counts
  // trigger, the commit), so halving their number cut its CPU per task by a third (README).
  const creates = new GroupCommit({
    sql: () => sql,
    writeBatch: createTasks,
    commit: 'statement',
    maxInFlight: 1,
  });

  app.post(
    prefix,
    {
      schema: {
        tags,
        summary: 'Create a task; with Idempotency-Key a retry returns the same task',
        headers: createHeaders,
        body: newTaskBody,
        response: { 201: taskSchema, 413: errorSchema, 422: errorSchema, ...errors },
      },
    },
    async (request, reply) => {
      const clientId = request.headers[clientIdHeader];
      const idempotencyKey = request.headers[idempotencyKeyHeader];
      // Keys are scoped by client: without one, two clients picking the same key would share
      // one namespace and get each other's task.
      if (idempotencyKey !== undefined && clientId === undefined) {
        throw new AgoraError(
          'client_id_required',
          400,
          'Idempotency-Key needs X-Client-Id: keys are scoped by the client that sends them.',
        );
      }
      const { task, created } = await creates.write({
        title: request.body.title,
        description: request.body.description ?? '',
        clientId: clientId ?? '',
        idempotencyKey,
      });
      if (!created) void reply.header(replayedHeader, 'true');
      return reply.status(201).header('location', `${prefix}/${task.id}`).send(task);
    },
  );

  app.get(
    prefix,
    {
      schema: {
        tags,
        summary: 'List tasks, newest first, by status and client; page with ?before=<next>',
        querystring: listQuery,
        response: { 200: taskPageSchema, ...errors },
      },
    },
    async (request) =>
      listTasks(sql, {
        status: request.query.status,
        clientId: request.query.client,
        before: request.query.before,
        limit: request.query.limit ?? defaultLimit,
      }),
  );

  app.get(
    `${prefix}/:id`,
    {
      schema: {
        tags,
        summary: 'One task',
        params: idParams,
        response: { 200: taskSchema, ...errors },
      },
    },
    async (request) => {
      const task = await findTask(sql, request.params.id);
      if (task === undefined) throw noTask(request.params.id);
      return task;
    },
  );

  app.patch(
    `${prefix}/:id`,
    {
      schema: {
        tags,
        summary: 'Change the title, description or done flag of a task',
        params: idParams,
        body: taskChangesBody,
        response: { 200: taskSchema, ...errors },
      },
    },
    async (request) => {
      const task = await updateTask(sql, request.params.id, request.body);
      if (task === undefined) throw noTask(request.params.id);
      return task;
    },
  );

  app.delete(
    `${prefix}/:id`,
    {
      schema: {
        tags,
        summary: 'Delete a task',
        params: idParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...errors },
      },
    },
    async (request, reply) => {
      if (!(await deleteTask(sql, request.params.id))) throw noTask(request.params.id);
      return reply.status(204).send(null);
    },
  );
}

function noTask(id: number): NotFoundError {
  return new NotFoundError(`No task with id ${id}.`);
}
