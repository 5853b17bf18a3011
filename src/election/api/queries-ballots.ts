/**
 * The ballots table: one page of ballots, newest first, with optional filters. Pages walk the
 * `seq` index (keyset with `before`, or a bounded offset); the total comes from a summary table
 * whenever one covers the filters, so no request counts millions of rows.
 */
import { ValidationError } from '../../platform/errors.js';
import type { SqlQueryable } from '../../platform/sql/sql.js';
import type { BallotFilters, BallotsPage, BallotsQuery, StoredBallot } from './schemas.js';

type FilterColumn = keyof BallotFilters;

/** Offset paging makes Postgres skip every row before the page: past this page, use `before`. */
export const maxOffsetPage = 500;

/** Column names come from this fixed list, never from the request; values are parameters. */
const filterColumns: readonly FilterColumn[] = [
  'departamento',
  'municipio',
  'sede',
  'papeleta',
  'partido',
];

/** Summary tables by the filters they can count, smallest first. */
const countingTables: readonly { table: string; columns: readonly FilterColumn[] }[] = [
  { table: 'party_by_department', columns: ['papeleta', 'departamento', 'partido'] },
  { table: 'party_by_municipality', columns: ['papeleta', 'departamento', 'municipio', 'partido'] },
  { table: 'votes_by_sede', columns: ['papeleta', 'departamento', 'municipio', 'sede'] },
];

interface BallotRow {
  id: string;
  sede: string;
  municipio: string;
  departamento: string;
  papeleta: string;
  partido: string;
  route: string;
  seq: string;
  received_at: Date;
}

export async function selectBallotsPage(
  sql: SqlQueryable,
  query: BallotsQuery,
): Promise<BallotsPage> {
  const filters = filterColumns.flatMap((column) => {
    const value = query[column];
    return value === undefined ? [] : [{ column, value }];
  });
  const params: unknown[] = filters.map((filter) => filter.value);
  const conditions = filters.map((filter, index) => `${filter.column} = $${index + 1}`);
  if (query.before !== undefined) {
    params.push(query.before);
    conditions.push(`seq < $${params.length}`);
  }
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  // One row more than the page says whether a next page exists.
  params.push(query.pageSize + 1);
  const limitParam = params.length;
  if (query.before === undefined && query.page > maxOffsetPage) {
    throw new ValidationError(
      `page: at most ${maxOffsetPage} without before; page further with before (the last page's nextBefore)`,
    );
  }
  params.push(query.before === undefined ? (query.page - 1) * query.pageSize : 0);
  const offsetParam = params.length;

  const [{ rows }, total] = await Promise.all([
    sql.query<BallotRow>(
      `SELECT id, sede, municipio, departamento, papeleta, partido, route, seq, received_at
       FROM ballots ${where} ORDER BY seq DESC LIMIT $${limitParam} OFFSET $${offsetParam}`,
      params,
    ),
    countBallots(sql, filters),
  ]);
  const items = rows.slice(0, query.pageSize).map(toStoredBallot);
  const hasMore = rows.length > query.pageSize;
  return {
    items,
    total,
    page: query.page,
    pageSize: query.pageSize,
    nextBefore: hasMore ? (items.at(-1)?.seq ?? null) : null,
  };
}

/** Counts matching ballots from a summary table; null when none covers the filters. */
async function countBallots(
  sql: SqlQueryable,
  filters: readonly { column: FilterColumn; value: string }[],
): Promise<number | null> {
  if (filters.length === 0) {
    const { rows } = await sql.query<{ total: string | null }>(
      'SELECT sum(ballots) AS total FROM ballots_by_route',
    );
    return Number(rows[0]?.total ?? 0);
  }
  const covering = countingTables.find(({ columns }) =>
    filters.every((filter) => columns.includes(filter.column)),
  );
  if (covering === undefined) return null;
  const conditions = filters.map((filter, index) => `${filter.column} = $${index + 1}`);
  const { rows } = await sql.query<{ total: string | null }>(
    `SELECT sum(votes) AS total FROM ${covering.table} WHERE ${conditions.join(' AND ')}`,
    filters.map((filter) => filter.value),
  );
  return Number(rows[0]?.total ?? 0);
}

function toStoredBallot(row: BallotRow): StoredBallot {
  return {
    id: row.id,
    sede: row.sede,
    municipio: row.municipio,
    departamento: row.departamento,
    papeleta: row.papeleta,
    partido: row.partido,
    route: row.route === 'grpc' ? 'grpc' : 'redis',
    seq: Number(row.seq),
    receivedAt: row.received_at.toISOString(),
  };
}
