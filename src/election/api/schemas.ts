/**
 * The election API's request and reply shapes (typebox): Fastify validates every query string
 * against them (unknown or malformed parameters get a 400 naming the parameter), and the
 * dashboard imports the reply types, so server and browser cannot drift apart.
 */
import { type Static, Type } from 'typebox';

/**
 * A ballot field value as a filter: the same limits the ingest side accepts, control characters
 * included (no stored ballot has one, and Postgres refuses a NUL in a text parameter).
 */
const noControlCharacters = '^[^\\u0000-\\u001f\\u007f]*$';
const fieldValue = Type.String({ minLength: 1, maxLength: 100, pattern: noControlCharacters });
const papeleta = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: noControlCharacters,
  default: 'presidente',
});
const limit = (max: number, byDefault: number) =>
  Type.Integer({ minimum: 1, maximum: max, default: byDefault });

export const ballotsQuery = Type.Object(
  {
    // A label when `before` is given; an offset (at most maxOffsetPage) when it is not.
    page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
    pageSize: limit(100, 20),
    /** Keyset cursor: only ballots older than this `seq` (the previous page's `nextBefore`). */
    before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    departamento: Type.Optional(fieldValue),
    municipio: Type.Optional(fieldValue),
    sede: Type.Optional(fieldValue),
    papeleta: Type.Optional(fieldValue),
    partido: Type.Optional(fieldValue),
  },
  { additionalProperties: false },
);
export type BallotsQuery = Static<typeof ballotsQuery>;
export type BallotFilters = Pick<
  BallotsQuery,
  'departamento' | 'municipio' | 'sede' | 'papeleta' | 'partido'
>;

export const topDepartmentsQuery = Type.Object(
  { papeleta, limit: limit(22, 3) },
  { additionalProperties: false },
);

export const topSedesQuery = Type.Object(
  { papeleta, limit: limit(50, 5) },
  { additionalProperties: false },
);

export const departmentShareQuery = Type.Object(
  { papeleta, departamento: fieldValue },
  { additionalProperties: false },
);

export const municipalityShareQuery = Type.Object(
  {
    papeleta,
    departamento: fieldValue,
    municipio: fieldValue,
  },
  { additionalProperties: false },
);

/** Endpoints that take no parameters still refuse unknown ones, so typos are not ignored. */
export const noQuery = Type.Object({}, { additionalProperties: false });

const route = Type.Union([Type.Literal('grpc'), Type.Literal('redis')]);

export const storedBallot = Type.Object({
  id: Type.String(),
  sede: Type.String(),
  municipio: Type.String(),
  departamento: Type.String(),
  papeleta: Type.String(),
  partido: Type.String(),
  route,
  /** Insertion order; the table's keyset cursor. */
  seq: Type.Integer(),
  receivedAt: Type.String(),
});
export type StoredBallot = Static<typeof storedBallot>;

export const ballotsPage = Type.Object({
  items: Type.Array(storedBallot),
  /** Ballots matching the filters; null when no summary table can count them cheaply. */
  total: Type.Union([Type.Integer(), Type.Null()]),
  page: Type.Integer(),
  pageSize: Type.Integer(),
  /** Pass as `before` for the next page; null on the last page. */
  nextBefore: Type.Union([Type.Integer(), Type.Null()]),
});
export type BallotsPage = Static<typeof ballotsPage>;

export const summary = Type.Object({
  total: Type.Integer(),
  byRoute: Type.Object({ grpc: Type.Integer(), redis: Type.Integer() }),
  /** Ballots stored per second over the last few seconds. */
  ratePerSecond: Type.Number(),
});
export type Summary = Static<typeof summary>;

export const departmentVotes = Type.Object({
  papeleta: Type.String(),
  items: Type.Array(Type.Object({ departamento: Type.String(), votes: Type.Integer() })),
});
export type DepartmentVotes = Static<typeof departmentVotes>;

export const partyShare = Type.Object({
  papeleta: Type.String(),
  total: Type.Integer(),
  items: Type.Array(
    Type.Object({ partido: Type.String(), votes: Type.Integer(), percent: Type.Number() }),
  ),
});
export type PartyShare = Static<typeof partyShare>;

export const sedeVotes = Type.Object({
  papeleta: Type.String(),
  items: Type.Array(
    Type.Object({
      sede: Type.String(),
      municipio: Type.String(),
      departamento: Type.String(),
      votes: Type.Integer(),
    }),
  ),
});
export type SedeVotes = Static<typeof sedeVotes>;

export const recentBallot = Type.Object({
  id: Type.String(),
  sede: Type.String(),
  municipio: Type.String(),
  departamento: Type.String(),
  papeleta: Type.String(),
  partido: Type.String(),
  route: Type.String(),
  receivedAt: Type.Union([Type.String(), Type.Null()]),
});
export type RecentBallot = Static<typeof recentBallot>;

export const recentBallots = Type.Object({ items: Type.Array(recentBallot) });
export type RecentBallots = Static<typeof recentBallots>;

/** Most ballot papers and parties /api/options lists; most places on one page. */
export const optionsLimits = { labels: 1_000, places: 5_000 } as const;

const place = Type.Object({ departamento: Type.String(), municipio: Type.String() });

export const optionsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: optionsLimits.places,
        description: `Places (department, municipality) on this page; default ${optionsLimits.places}.`,
      }),
    ),
    after_departamento: Type.Optional(Type.String({ maxLength: 1_000 })),
    after_municipio: Type.Optional(Type.String({ maxLength: 1_000 })),
  },
  { additionalProperties: false },
);
export type OptionsQuery = Static<typeof optionsQuery>;

export const options = Type.Object({
  papeletas: Type.Array(Type.String()),
  partidos: Type.Array(Type.String()),
  departamentos: Type.Array(
    Type.Object({ name: Type.String(), municipios: Type.Array(Type.String()) }),
  ),
  /** The place to pass as after_departamento / after_municipio for the next page; null: last. */
  next: Type.Union([place, Type.Null()]),
  /** More ballot papers or parties exist than the first `optionsLimits.labels` listed. */
  truncated: Type.Boolean(),
});
export type Options = Static<typeof options>;
