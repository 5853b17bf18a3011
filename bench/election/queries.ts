/**
 * Part (c) of the election benchmark: the dashboard's queries with 1,000,000 ballots stored.
 * It fills a throwaway schema in one pass of SQL (generate_series into `ballots`, then the
 * summary tables aggregated from it, so they agree exactly as the ingest keeps them), starts
 * election-api on it, and times each dashboard request over HTTP, one at a time.
 */
import { randomBytes } from 'node:crypto';

import { build } from 'hdr-histogram-js';
import { Pool } from 'undici';

import { electionMigrations } from '../../src/election/migrations.js';
import { electionSystem } from '../../src/election/protocol.js';
import {
  ballotTypes,
  departments,
  parties,
  pollingStations,
} from '../../src/election/reference-data.js';
import { migrate } from '../../src/platform/sql/migrations.js';
import { PgSql } from '../../src/platform/sql/pg.js';
import { progress } from '../support/benchmark.js';
import { agoraCli, freePort, startServer } from '../support/server-process.js';

export interface DashboardQuerySettings {
  /** Ballots to store before measuring. */
  ballots?: number;
  /** Timed requests per query, after a short warm-up. */
  requests?: number;
  databaseUrl?: string;
  redisUrl?: string;
}

export interface QueryFigures {
  name: string;
  path: string;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface DashboardQueryFigures {
  ballots: number;
  /** Seconds to generate the ballots and their summaries. */
  fillSeconds: number;
  requests: number;
  queries: QueryFigures[];
}

/** The compiled CLI, beside this file's compiled copy in dist/. */
const warmupRequests = 20;
const fillChunk = 250_000;

export async function measureDashboardQueries(
  settings: DashboardQuerySettings = {},
): Promise<DashboardQueryFigures> {
  const ballots = settings.ballots ?? 1_000_000;
  const requests = settings.requests ?? 200;
  const databaseUrl =
    settings.databaseUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = settings.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const schema = `bench_election_${randomBytes(4).toString('hex')}`;
  const sql = new PgSql({ url: databaseUrl, schema, poolSize: 2 });
  try {
    const started = Date.now();
    await fill(sql, ballots);
    const fillSeconds = (Date.now() - started) / 1000;
    progress(`dashboard queries: ${ballots} ballots stored in ${fillSeconds.toFixed(1)} s`);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const api = await startServer('election-api', {
      args: [agoraCli, 'run', 'election-api', '--port', String(port)],
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        AGORA_DB_SCHEMA: schema,
        REDIS_URL: redisUrl,
        AGORA_REDIS_PREFIX: `${schema}:`,
        LOG_LEVEL: 'warn',
      },
      url,
      readyUrl: `${url}/readyz`,
    });
    try {
      const queries: QueryFigures[] = [];
      for (const [name, path] of await dashboardPaths(sql)) {
        queries.push(await timeRequests(url, name, path, requests));
      }
      return { ballots, fillSeconds, requests, queries };
    } finally {
      await api.stop();
    }
  } finally {
    await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await sql.close();
  }
}

export function formatDashboardQueries(figures: DashboardQueryFigures): string {
  const lines = [
    `dashboard queries with ${figures.ballots.toLocaleString('en')} ballots ` +
      `(filled in ${figures.fillSeconds.toFixed(1)} s; ${figures.requests} sequential requests each)`,
    `  ${'query'.padEnd(28)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}`,
  ];
  for (const query of figures.queries) {
    lines.push(
      `  ${query.name.padEnd(28)} ${query.p50Ms.toFixed(2).padStart(8)} ${query.p99Ms
        .toFixed(2)
        .padStart(8)} ${query.maxMs.toFixed(2).padStart(8)}`,
    );
  }
  return lines.join('\n');
}

/**
 * Every polling station of the reference data, biggest departments first, so that picking an
 * index skewed towards 0 gives the populous places most ballots, as in an election.
 */
function placesOf(): { departamento: string[]; municipio: string[]; sede: string[] } {
  const places = { departamento: [] as string[], municipio: [] as string[], sede: [] as string[] };
  const byPopulation = [...departments].sort((a, b) => b.population - a.population);
  for (const department of byPopulation) {
    for (const municipality of department.municipalities) {
      for (const sede of pollingStations(department, municipality)) {
        places.departamento.push(department.name);
        places.municipio.push(municipality);
        places.sede.push(sede);
      }
    }
  }
  return places;
}

async function fill(sql: PgSql, ballots: number): Promise<void> {
  await migrate(sql, electionSystem, electionMigrations);
  const places = placesOf();
  const partyCodes = [...parties].sort((a, b) => b.weight - a.weight).map((party) => party.code);
  for (let from = 1; from <= ballots; from += fillChunk) {
    const to = Math.min(ballots, from + fillChunk - 1);
    // Skewed picks (random()^k) favour the first places and parties: a few big winners.
    await sql.query(
      `WITH places AS (
         SELECT ord - 1 AS n, departamento, municipio, sede
         FROM unnest($1::text[], $2::text[], $3::text[])
           WITH ORDINALITY AS p(departamento, municipio, sede, ord)
       ), picks AS (
         SELECT g,
           floor(power(random(), 2) * cardinality($1::text[]))::int AS place,
           ($4::text[])[1 + floor(power(random(), 1.6) * cardinality($4::text[]))::int] AS partido,
           ($5::text[])[1 + floor(random() * cardinality($5::text[]))::int] AS papeleta,
           CASE WHEN random() < 0.5 THEN 'grpc' ELSE 'redis' END AS route
         FROM generate_series($6::bigint, $7::bigint) AS g
       )
       INSERT INTO ballots (id, sede, municipio, departamento, papeleta, partido, route)
       SELECT 'bench-' || g, places.sede, places.municipio, places.departamento,
         picks.papeleta, picks.partido, picks.route
       FROM picks JOIN places ON places.n = picks.place
       ORDER BY g`,
      [places.departamento, places.municipio, places.sede, partyCodes, [...ballotTypes], from, to],
    );
    progress(`dashboard queries: filling ballots ${to}/${ballots}`);
  }
  // The summaries as the ingest would have left them: exact aggregates of `ballots`.
  await sql.query(`
    INSERT INTO party_by_department (papeleta, departamento, partido, votes)
      SELECT papeleta, departamento, partido, count(*) FROM ballots GROUP BY 1, 2, 3;
    INSERT INTO party_by_municipality (papeleta, departamento, municipio, partido, votes)
      SELECT papeleta, departamento, municipio, partido, count(*) FROM ballots GROUP BY 1, 2, 3, 4;
    INSERT INTO votes_by_sede (papeleta, departamento, municipio, sede, votes)
      SELECT papeleta, departamento, municipio, sede, count(*) FROM ballots GROUP BY 1, 2, 3, 4;
    INSERT INTO ballots_by_route (route, shard, ballots)
      SELECT route, 0, count(*) FROM ballots GROUP BY route;
    ANALYZE`);
}

/** The requests one dashboard load makes, plus the table's filtered and deep pages. */
async function dashboardPaths(sql: PgSql): Promise<[string, string][]> {
  const { rows } = await sql.query<{
    departamento: string;
    municipio: string;
    sede: string;
    middle: string;
  }>(
    `SELECT departamento, municipio, sede, (SELECT max(seq) / 2 FROM ballots) AS middle
     FROM votes_by_sede WHERE papeleta = 'presidente' ORDER BY votes DESC LIMIT 1`,
  );
  const top = rows[0];
  if (top === undefined) throw new Error('the fill stored no presidente ballots');
  const place = (value: string) => encodeURIComponent(value);
  const where = `departamento=${place(top.departamento)}`;
  return [
    ['summary', '/api/summary'],
    ['options', '/api/options'],
    ['top-departments', '/api/top-departments?papeleta=presidente&limit=3'],
    ['party-share/department', `/api/party-share/department?papeleta=presidente&${where}`],
    [
      'party-share/municipality',
      `/api/party-share/municipality?papeleta=presidente&${where}&municipio=${place(top.municipio)}`,
    ],
    ['top-sedes', '/api/top-sedes?papeleta=presidente&limit=5'],
    ['recent', '/api/recent'],
    ['ballots (page 1)', '/api/ballots?pageSize=20'],
    ['ballots (page 50, offset)', '/api/ballots?pageSize=20&page=50'],
    ['ballots (keyset, middle)', `/api/ballots?pageSize=20&page=2&before=${top.middle}`],
    ['ballots (departamento)', `/api/ballots?pageSize=20&${where}`],
    ['ballots (sede)', `/api/ballots?pageSize=20&sede=${place(top.sede)}`],
    [
      'ballots (municipio+partido)',
      `/api/ballots?pageSize=20&municipio=${place(top.municipio)}&partido=${place(parties[0]?.code ?? '')}`,
    ],
  ];
}

async function timeRequests(
  url: string,
  name: string,
  path: string,
  requests: number,
): Promise<QueryFigures> {
  const pool = new Pool(url, { connections: 1 });
  const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
  try {
    for (let index = 0; index < warmupRequests + requests; index++) {
      const started = process.hrtime.bigint();
      const response = await pool.request({ method: 'GET', path });
      const body = await response.body.text();
      const micros = Number((process.hrtime.bigint() - started) / 1000n);
      if (response.statusCode !== 200) {
        throw new Error(`${path} answered ${response.statusCode}: ${body.slice(0, 300)}`);
      }
      if (index >= warmupRequests) histogram.recordValue(micros);
    }
    return {
      name,
      path,
      p50Ms: histogram.getValueAtPercentile(50) / 1000,
      p99Ms: histogram.getValueAtPercentile(99) / 1000,
      maxMs: histogram.maxValue / 1000,
    };
  } finally {
    histogram.destroy();
    await pool.close();
  }
}
