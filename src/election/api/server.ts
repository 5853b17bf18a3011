/**
 * election-api's server: the REST endpoints behind each dashboard view, a server-sent event
 * stream that tells the dashboard when ballots were stored, and the built dashboard itself.
 */
import { ValidationError } from '../../platform/errors.js';
import { LiveStream } from '../../platform/http/live-stream.js';
import { createHttpServer, listen } from '../../platform/http/server.js';
import type { ContextOf, ServiceHandle } from '../../platform/service.js';
import { storedChannel } from '../protocol.js';
import { IngestRate } from './live-rate.js';
import {
  selectDepartmentShare,
  selectMunicipalityShare,
  selectOptions,
  selectRouteCounts,
  selectTopDepartments,
  selectTopSedes,
} from './queries.js';
import { selectBallotsPage } from './queries-ballots.js';
import { readRecentBallots } from './recent.js';
import {
  ballotsPage,
  ballotsQuery,
  departmentShareQuery,
  departmentVotes,
  municipalityShareQuery,
  noQuery,
  type Options,
  options,
  optionsQuery,
  partyShare,
  recentBallots,
  sedeVotes,
  type Summary,
  summary,
  topDepartmentsQuery,
  topSedesQuery,
} from './schemas.js';
import type { electionApiService } from './service.js';
import { serveDashboard } from './static.js';
import { addVerifyRoutes } from './verify.js';

/** How often the total is sampled for the ingest rate. */
const rateSampleMs = 1_000;
/**
 * Every open dashboard asks for the pickers' options on each live update; new places appear
 * rarely, so one read serves all of them for this long (the heaviest of the views: it scans
 * the municipality summary).
 */
const optionsCacheMs = 2_000;

export async function startElectionApi(
  ctx: ContextOf<typeof electionApiService>,
): Promise<ServiceHandle> {
  const { sql } = ctx;
  const rate = new IngestRate();
  async function readSummary(): Promise<Summary> {
    const counts = await selectRouteCounts(sql);
    rate.add(counts.total, Date.now());
    return { ...counts, ratePerSecond: rate.perSecond() };
  }
  const sampler = setInterval(() => {
    readSummary().catch(() => undefined);
  }, rateSampleMs);
  sampler.unref();

  // Ballots arrive by the thousand a second: the dashboard re-reads at most 4 times a second.
  const live = new LiveStream({
    event: 'summary',
    read: readSummary,
    logger: ctx.logger,
    minIntervalMs: 250,
    limits: ctx.httpLimits,
  });
  live.follow(ctx.broker, storedChannel, ctx.signal);

  const app = await createHttpServer(ctx, {
    title: 'Agora election API',
    description: 'The views of the election dashboard (seed 004) and its live stream.',
  });
  const ok = <T>(schema: T) => ({ 200: schema });

  app.get(
    '/api/summary',
    {
      schema: {
        summary: 'Totals per route and the ingest rate',
        querystring: noQuery,
        response: ok(summary),
      },
    },
    () => readSummary(),
  );

  app.get(
    '/api/ballots',
    {
      schema: {
        summary: 'Stored ballots, filtered and paged (keyset cursor or offset)',
        querystring: ballotsQuery,
        response: ok(ballotsPage),
      },
    },
    (request) => selectBallotsPage(sql, request.query),
  );

  app.get(
    '/api/top-departments',
    {
      schema: {
        summary: 'Departments with the most votes for a ballot paper',
        querystring: topDepartmentsQuery,
        response: ok(departmentVotes),
      },
    },
    (request) => selectTopDepartments(sql, request.query.papeleta, request.query.limit),
  );

  app.get(
    '/api/party-share/department',
    {
      schema: {
        summary: "Each party's share in a department",
        querystring: departmentShareQuery,
        response: ok(partyShare),
      },
    },
    (request) => selectDepartmentShare(sql, request.query.papeleta, request.query.departamento),
  );

  app.get(
    '/api/party-share/municipality',
    {
      schema: {
        summary: "Each party's share in a municipality",
        querystring: municipalityShareQuery,
        response: ok(partyShare),
      },
    },
    (request) => {
      const { papeleta, departamento, municipio } = request.query;
      return selectMunicipalityShare(sql, papeleta, departamento, municipio);
    },
  );

  app.get(
    '/api/top-sedes',
    {
      schema: {
        summary: 'Polling stations with the most votes',
        querystring: topSedesQuery,
        response: ok(sedeVotes),
      },
    },
    (request) => selectTopSedes(sql, request.query.papeleta, request.query.limit),
  );

  app.get(
    '/api/recent',
    {
      schema: {
        summary: 'The most recently stored ballots',
        querystring: noQuery,
        response: ok(recentBallots),
      },
    },
    async () => ({ items: await readRecentBallots(ctx.broker) }),
  );

  let cachedOptions: { at: number; value: Promise<Options> } | undefined;
  app.get(
    '/api/options',
    {
      schema: {
        summary: 'What the pickers offer: ballot papers, departments, municipalities',
        description:
          'Bounded: at most 1,000 papers and parties (`truncated` says more exist) and a page of places; pass `next` as after_departamento and after_municipio for the following page.',
        querystring: optionsQuery,
        response: ok(options),
      },
    },
    (request) => {
      const { limit, after_departamento: departamento, after_municipio: municipio } = request.query;
      if (limit !== undefined || departamento !== undefined || municipio !== undefined) {
        if ((departamento === undefined) !== (municipio === undefined)) {
          throw new ValidationError(
            'after_departamento and after_municipio go together (the `next` of the last page)',
          );
        }
        const after =
          departamento === undefined || municipio === undefined
            ? undefined
            : { departamento, municipio };
        return selectOptions(sql, { after, limit });
      }
      // The first page, which every dashboard asks for: one read serves them all.
      const now = Date.now();
      if (cachedOptions === undefined || now - cachedOptions.at > optionsCacheMs) {
        const value = selectOptions(sql);
        // A failed read is not kept: the next request tries again.
        value.catch(() => {
          if (cachedOptions?.value === value) cachedOptions = undefined;
        });
        cachedOptions = { at: now, value };
      }
      return cachedOptions.value;
    },
  );

  app.get(
    '/api/stream',
    {
      schema: {
        querystring: noQuery,
        summary: 'Server-sent events: `summary` with the body of /api/summary on each change',
        produces: ['text/event-stream'],
      },
    },
    (_request, reply) => {
      reply.hijack();
      live.add(reply.raw);
    },
  );

  addVerifyRoutes(app, sql);

  await serveDashboard(app);

  const url = await listen(app, ctx.host, ctx.port);
  return {
    url,
    stop: async () => {
      clearInterval(sampler);
      await live.close();
      await app.close();
    },
  };
}
