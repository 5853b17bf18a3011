/**
 * JSON schemas of the task API: Fastify validates every request against them (unknown fields
 * refused, 400 naming the field), serialises answers with them, and @fastify/swagger turns
 * them into the OpenAPI document at /docs.
 */
import { Type } from 'typebox';

import { describedPattern } from '../platform/http/error-reply.js';
import { tokenPattern } from './protocol.js';

/** No control characters (NUL, ESC, newlines...): a title is one line of text. */
const title = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: describedPattern('^(?=.*\\S)[^\\p{Cc}]*$', 'must hold text and no control characters'),
});
/** Lines and tabs, but no other control character (Postgres refuses NUL in text). */
const description = Type.String({
  maxLength: 2_000,
  pattern: describedPattern(
    '^[^\\p{Cc}]*(?:[\\t\\n\\r][^\\p{Cc}]*)*$',
    'must have no control characters but tabs and line breaks',
  ),
});
const maxId = Number.MAX_SAFE_INTEGER;
/** protocol.ts's taskStatuses, spelt out so the type keeps its literals. */
const status = Type.Union([Type.Literal('pending'), Type.Literal('done')]);

export const taskSchema = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  description: Type.String(),
  status,
  done: Type.Boolean(),
  client_id: Type.Union([Type.String(), Type.Null()]),
  idempotency_key: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const errorSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

export const newTaskBody = Type.Object(
  { title, description: Type.Optional(description) },
  { additionalProperties: false },
);

export const taskChangesBody = Type.Object(
  {
    title: Type.Optional(title),
    description: Type.Optional(description),
    done: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const createHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: tokenPattern,
      description: 'Retrying with the same key returns the first task instead of a second one.',
    }),
  ),
  'x-client-id': Type.Optional(
    Type.String({
      pattern: tokenPattern,
      description:
        "Who sends the task (the seed's client1, client2); scopes idempotency keys, so Idempotency-Key needs it.",
    }),
  ),
});

export const idParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: maxId }) },
  { additionalProperties: false },
);

export const listQuery = Type.Object(
  {
    status: Type.Optional(status),
    client: Type.Optional(Type.String({ pattern: tokenPattern })),
    before: Type.Optional(
      Type.Integer({ minimum: 1, maximum: maxId, description: "The previous page's `next`." }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 50 })),
  },
  { additionalProperties: false },
);

export const taskPageSchema = Type.Object({
  tasks: Type.Array(taskSchema),
  next: Type.Union([Type.Integer(), Type.Null()]),
});

const countsSchema = Type.Record(Type.String(), Type.Integer());

export const statusSchema = Type.Object({
  service: Type.String(),
  instance: Type.String(),
  pid: Type.Integer(),
  started_at: Type.String({ format: 'date-time' }),
  uptime_seconds: Type.Number(),
  tasks: Type.Object({
    pending: Type.Integer(),
    done: Type.Integer(),
    total: Type.Integer(),
  }),
  requests: countsSchema,
  errors: countsSchema,
});
