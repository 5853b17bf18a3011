/**
 * The election API (seed 004's Node API, port 3000): the REST endpoints behind each dashboard
 * view, a server-sent event stream that tells the dashboard when ballots were stored, and the
 * built dashboard itself. It applies the election migrations at start, so it never answers
 * "relation does not exist" when it starts before the ingest services.
 */
import { retryWithBackoff } from '../platform/backoff.js';
import type { Unsubscribe } from '../platform/broker/broker.js';
import { UnavailableError } from '../platform/errors.js';
import { createHttpServer, listen } from '../platform/http/server.js';
import { defineService } from '../platform/service.js';
import { migrateWhenReady } from '../platform/sql/migrations.js';
import { readRecentBallots } from './api-recent.js';
import {
  ballotsPage,
  ballotsQuery,
  departmentShareQuery,
  departmentVotes,
  municipalityShareQuery,
  noQuery,
  options,
  partyShare,
  recentBallots,
  sedeVotes,
  summary,
  topDepartmentsQuery,
  topSedesQuery,
  type Options,
  type Summary,
} from './api-schemas.js';
import { serveDashboard } from './api-static.js';
import { addVerifyRoutes } from './api-verify.js';
import { IngestRate } from './live-rate.js';
import { LiveUpdates } from './live-updates.js';
import { electionMigrations } from './migrations.js';
import { electionSystem, storedChannel } from './protocol.js';
import { selectBallotsPage } from './queries-ballots.js';
import {
  selectDepartmentShare,
  selectMunicipalityShare,
  selectOptions,
  selectRouteCounts,
  selectTopDepartments,
  selectTopSedes,
} from './queries.js';

/** How often the total is sampled for the ingest rate. */
const rateSampleMs = 1_000;
/**
 * Every open dashboard asks for the pickers' options on each live update; new places appear
 * rarely, so one read serves all of them for this long (the heaviest of the views: it scans
 * the municipality summary).
 */
const optionsCacheMs = 2_000;

export const electionApiService = defineService({
  name: 'election-api',
  system: 'election',
  description: 'Election REST API, live SSE stream and the React dashboard',
  defaultPort: 3000,
  scaling: 'shared-port',
  needs: ['broker', 'sql'],
  settings: {},

  async start(ctx) {
    let schemaReady = false;
    ctx.readiness.add('election schema', () =>
      schemaReady ? Promise.resolve() : Promise.reject(new Error('waiting for the database')),
    );
    void migrateWhenReady(ctx.sql, electionSystem, electionMigrations, {
      signal: ctx.signal,
      logger: ctx.logger,
    }).then(
      () => {
        schemaReady = true;
      },
      (error: unknown) => {
        if (!ctx.signal.aborted) ctx.logger.error({ err: error }, 'election migrations failed');
      },
    );

    /** The SQL handle, once the tables exist; a readable 503 before. */
    function database() {
      if (!schemaReady) {
        throw new UnavailableError(
          'database',
          'The election results are not ready yet: waiting for the database.',
        );
      }
      return ctx.sql;
    }

    const rate = new IngestRate();
    async function readSummary(): Promise<Summary> {
      const counts = await selectRouteCounts(database());
      rate.add(counts.total, Date.now());
      return { ...counts, ratePerSecond: rate.perSecond() };
    }
    const sampler = setInterval(() => {
      if (schemaReady) readSummary().catch(() => undefined);
    }, rateSampleMs);
    sampler.unref();

    const live = new LiveUpdates(readSummary, ctx.logger);
    const subscribed: Promise<Unsubscribe | undefined> = retryWithBackoff(
      () =>
        ctx.broker.subscribe(storedChannel, () => {
          live.notify();
        }),
      { signal: ctx.signal },
    ).catch(() => undefined);

    const app = createHttpServer(ctx);
    const ok = <T>(schema: T) => ({ 200: schema });

    app.get('/api/summary', { schema: { querystring: noQuery, response: ok(summary) } }, () =>
      readSummary(),
    );

    app.get(
      '/api/ballots',
      { schema: { querystring: ballotsQuery, response: ok(ballotsPage) } },
      (request) => selectBallotsPage(database(), request.query),
    );

    app.get(
      '/api/top-departments',
      { schema: { querystring: topDepartmentsQuery, response: ok(departmentVotes) } },
      (request) => selectTopDepartments(database(), request.query.papeleta, request.query.limit),
    );

    app.get(
      '/api/party-share/department',
      { schema: { querystring: departmentShareQuery, response: ok(partyShare) } },
      (request) =>
        selectDepartmentShare(database(), request.query.papeleta, request.query.departamento),
    );

    app.get(
      '/api/party-share/municipality',
      { schema: { querystring: municipalityShareQuery, response: ok(partyShare) } },
      (request) => {
        const { papeleta, departamento, municipio } = request.query;
        return selectMunicipalityShare(database(), papeleta, departamento, municipio);
      },
    );

    app.get(
      '/api/top-sedes',
      { schema: { querystring: topSedesQuery, response: ok(sedeVotes) } },
      (request) => selectTopSedes(database(), request.query.papeleta, request.query.limit),
    );

    app.get(
      '/api/recent',
      { schema: { querystring: noQuery, response: ok(recentBallots) } },
      async () => ({ items: await readRecentBallots(ctx.broker) }),
    );

    let cachedOptions: { at: number; value: Promise<Options> } | undefined;
    app.get('/api/options', { schema: { querystring: noQuery, response: ok(options) } }, () => {
      const now = Date.now();
      if (cachedOptions === undefined || now - cachedOptions.at > optionsCacheMs) {
        const value = selectOptions(database());
        // A failed read is not kept: the next request tries again.
        value.catch(() => {
          if (cachedOptions?.value === value) cachedOptions = undefined;
        });
        cachedOptions = { at: now, value };
      }
      return cachedOptions.value;
    });

    app.get('/api/stream', { schema: { querystring: noQuery } }, (_request, reply) => {
      reply.hijack();
      live.add(reply.raw);
    });

    addVerifyRoutes(app, database);

    await serveDashboard(app);

    const url = await listen(app, ctx.host, ctx.port);
    return {
      url,
      stop: async () => {
        clearInterval(sampler);
        live.close();
        await (
          await subscribed
        )?.();
        await app.close();
      },
    };
  },
});
