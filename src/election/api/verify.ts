/**
 * The election API's verification routes, for `agora load election`: which stored ballots
 * carry the given ids, and whether the summary tables equal a fresh count. The load process
 * reads the store through them, because an embedded stack's PGlite has one writer: the
 * running stack.
 */
import { type Static, Type } from 'typebox';

import type { HttpServer } from '../../platform/http/server.js';
import type { Sql } from '../../platform/sql/index.js';
import { ballotIdPattern, maxFieldLength } from '../ballot.js';
import { findSummaryDrift } from '../ballot-store.js';
import { readStoredBallots } from '../load/verify.js';

/** Ids per request: a full request stays well under the API's 64 KiB body limit. */
export const verifyIdsPerRequest = 500;

const field = Type.String({ maxLength: maxFieldLength });

export const verifyBallotsBody = Type.Object(
  {
    ids: Type.Array(Type.String({ pattern: ballotIdPattern.source }), {
      maxItems: verifyIdsPerRequest,
    }),
  },
  { additionalProperties: false },
);

/** Which SQL driver backs the service: `pglite` (embedded) or `pg` (Postgres). */
const store = Type.Union([Type.Literal('pglite'), Type.Literal('pg')]);

export const storedBallots = Type.Object({
  store,
  ballots: Type.Array(
    Type.Object({
      id: Type.String(),
      sede: field,
      municipio: field,
      departamento: field,
      papeleta: field,
      partido: field,
      copies: Type.Integer(),
    }),
  ),
});
export type StoredBallots = Static<typeof storedBallots>;

export const summaryDrift = Type.Object({ store, drift: Type.Array(Type.String()) });
export type SummaryDrift = Static<typeof summaryDrift>;

/** Adds `POST /api/verify/ballots` and `GET /api/verify/summaries`; until the schema is there they answer 503. */
export function addVerifyRoutes(app: HttpServer, sql: Sql): void {
  app.post(
    '/api/verify/ballots',
    {
      schema: {
        summary: 'Which of these ballot ids are stored, and with what fields (load verification)',
        body: verifyBallotsBody,
        response: { 200: storedBallots },
      },
    },
    async (request) => ({
      store: sql.driver,
      ballots: await readStoredBallots(sql, request.body.ids),
    }),
  );
  app.get(
    '/api/verify/summaries',
    {
      schema: {
        summary: 'Summary rows that differ from a recount of the ballots (load verification)',
        response: { 200: summaryDrift },
      },
    },
    async () => ({
      store: sql.driver,
      drift: await findSummaryDrift(sql),
    }),
  );
}
