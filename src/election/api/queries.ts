/**
 * The dashboard's aggregate queries. Each reads a summary table the ingest writes keep up to
 * date in the same transaction as the ballots, so a chart costs O(groups), never a scan of
 * `ballots` (seed 004's API re-counted the whole table on every refresh).
 */
import { NotFoundError } from '../../platform/errors.js';
import type { SqlQueryable } from '../../platform/sql/sql.js';
import {
  type DepartmentVotes,
  type Options,
  optionsLimits,
  type PartyShare,
  type SedeVotes,
} from './schemas.js';

export interface RouteCounts {
  total: number;
  byRoute: { grpc: number; redis: number };
}

/** int8 and numeric come back as strings (see Sql.query); the counts here fit a double. */
const count = (value: string | number): number => Number(value);

export async function selectRouteCounts(sql: SqlQueryable): Promise<RouteCounts> {
  const { rows } = await sql.query<{ route: string; ballots: string }>(
    'SELECT route, sum(ballots) AS ballots FROM ballots_by_route GROUP BY route',
  );
  const byRoute = { grpc: 0, redis: 0 };
  for (const row of rows) {
    if (row.route === 'grpc' || row.route === 'redis') byRoute[row.route] = count(row.ballots);
  }
  return { total: byRoute.grpc + byRoute.redis, byRoute };
}

export async function selectTopDepartments(
  sql: SqlQueryable,
  papeleta: string,
  limit: number,
): Promise<DepartmentVotes> {
  const { rows } = await sql.query<{ departamento: string; votes: string }>(
    `SELECT departamento, sum(votes) AS votes FROM party_by_department
     WHERE papeleta = $1 GROUP BY departamento ORDER BY votes DESC, departamento LIMIT $2`,
    [papeleta, limit],
  );
  return {
    papeleta,
    items: rows.map((row) => ({ departamento: row.departamento, votes: count(row.votes) })),
  };
}

export async function selectDepartmentShare(
  sql: SqlQueryable,
  papeleta: string,
  departamento: string,
): Promise<PartyShare> {
  const { rows } = await sql.query<{ partido: string; votes: string }>(
    `SELECT partido, votes FROM party_by_department
     WHERE papeleta = $1 AND departamento = $2 ORDER BY votes DESC, partido`,
    [papeleta, departamento],
  );
  if (rows.length === 0) {
    const known = await sql.query(
      'SELECT 1 FROM party_by_department WHERE departamento = $1 LIMIT 1',
      [departamento],
    );
    if (known.rowCount === 0) {
      throw new NotFoundError(`No ballots name the departamento "${departamento}".`);
    }
  }
  return shareOf(papeleta, rows);
}

export async function selectMunicipalityShare(
  sql: SqlQueryable,
  papeleta: string,
  departamento: string,
  municipio: string,
): Promise<PartyShare> {
  const { rows } = await sql.query<{ partido: string; votes: string }>(
    `SELECT partido, votes FROM party_by_municipality
     WHERE papeleta = $1 AND departamento = $2 AND municipio = $3 ORDER BY votes DESC, partido`,
    [papeleta, departamento, municipio],
  );
  if (rows.length === 0) {
    const known = await sql.query(
      'SELECT 1 FROM party_by_municipality WHERE departamento = $1 AND municipio = $2 LIMIT 1',
      [departamento, municipio],
    );
    if (known.rowCount === 0) {
      throw new NotFoundError(
        `No ballots name the municipio "${municipio}" in the departamento "${departamento}".`,
      );
    }
  }
  return shareOf(papeleta, rows);
}

export async function selectTopSedes(
  sql: SqlQueryable,
  papeleta: string,
  limit: number,
): Promise<SedeVotes> {
  const { rows } = await sql.query<{
    sede: string;
    municipio: string;
    departamento: string;
    votes: string;
  }>(
    `SELECT sede, municipio, departamento, votes FROM votes_by_sede
     WHERE papeleta = $1 ORDER BY votes DESC, sede, municipio, departamento LIMIT $2`,
    [papeleta, limit],
  );
  return { papeleta, items: rows.map((row) => ({ ...row, votes: count(row.votes) })) };
}

/**
 * What the dashboard's pickers offer: only values present in the data. Free-text categories
 * could make this grow without bound, so it is bounded: at most `optionsLimits.labels` papers
 * and parties (`truncated` says more exist), and places a page at a time, after a cursor.
 */
export async function selectOptions(
  sql: SqlQueryable,
  page: { after?: { departamento: string; municipio: string }; limit?: number } = {},
): Promise<Options> {
  const labels = optionsLimits.labels;
  const limit = page.limit ?? optionsLimits.places;
  const [papeletas, partidos, places] = await Promise.all([
    sql.query<{ papeleta: string }>(
      'SELECT DISTINCT papeleta FROM party_by_department ORDER BY papeleta LIMIT $1',
      [labels + 1],
    ),
    sql.query<{ partido: string }>(
      'SELECT DISTINCT partido FROM party_by_department ORDER BY partido LIMIT $1',
      [labels + 1],
    ),
    sql.query<{ departamento: string; municipio: string }>(
      `SELECT DISTINCT departamento, municipio FROM party_by_municipality
       WHERE $1::text IS NULL OR (departamento, municipio) > ($1::text, $2::text)
       ORDER BY departamento, municipio LIMIT $3`,
      [page.after?.departamento ?? null, page.after?.municipio ?? '', limit + 1],
    ),
  ]);
  const rows = places.rows.slice(0, limit);
  const departamentos: Options['departamentos'] = [];
  for (const { departamento, municipio } of rows) {
    const last = departamentos.at(-1);
    if (last?.name === departamento) last.municipios.push(municipio);
    else departamentos.push({ name: departamento, municipios: [municipio] });
  }
  const lastPlace = rows.at(-1);
  return {
    papeletas: papeletas.rows.slice(0, labels).map((row) => row.papeleta),
    partidos: partidos.rows.slice(0, labels).map((row) => row.partido),
    departamentos,
    next:
      places.rows.length > limit && lastPlace !== undefined
        ? { departamento: lastPlace.departamento, municipio: lastPlace.municipio }
        : null,
    truncated: papeletas.rows.length > labels || partidos.rows.length > labels,
  };
}

function shareOf(
  papeleta: string,
  rows: readonly { partido: string; votes: string }[],
): PartyShare {
  const items = rows.map((row) => ({ partido: row.partido, votes: count(row.votes) }));
  const total = items.reduce((sum, item) => sum + item.votes, 0);
  return {
    papeleta,
    total,
    items: items.map((item) => ({
      ...item,
      percent: total === 0 ? 0 : Math.round((item.votes / total) * 1000) / 10,
    })),
  };
}
