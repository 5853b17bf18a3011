/**
 * The election dashboard as people use it, in Chromium at desktop and phone widths, served by
 * election-api against real Postgres and Redis: every chart and table shows, and a batch stored
 * while the page is open appears without reload; with no ballots every card says so; English
 * and Spanish. With AGORA_SCREENSHOT=1 it saves docs/screenshots/election-dashboard-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Ballot } from '../../src/election/ballot.js';
import { storeBallots } from '../../src/election/ballot-store.js';
import { randomBallot, seededRandom } from '../../src/election/reference-data-ballots.js';
import { RedisBroker } from '../../src/platform/broker/redis.js';
import { PgSql } from '../../src/platform/sql/pg.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from '../support/backends.js';
import {
  closeBrowser,
  launchBrowser,
  saveScreenshot,
  sidewaysOverflow,
  viewports,
} from '../support/browser.js';
import { agoraCli, freePort, killAll, startProcess, waitForHttp } from '../support/processes.js';

const prefix = `${uniqueName('edash')}:`;
const schema = uniqueName('edash');
const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
const sql = new PgSql({ url: testDatabaseUrl, schema });
const random = seededRandom(2023);
/** Generous: Chromium on a loaded two-core machine; every wait inside polls, none sleeps. */
const browserTestMs = 120_000;
let base = '';
let emptyBase = '';
const emptySchema = uniqueName('edashempty');
let browser: Browser | undefined;
let nextId = 0;

/** `count` realistic ballots, most for `presidente` so its charts fill up. */
function ballots(count: number): Ballot[] {
  return Array.from({ length: count }, (_, index) => {
    nextId += 1;
    const fields = randomBallot(random);
    return {
      ...fields,
      id: `dash-${nextId}`,
      papeleta: index % 4 === 0 ? fields.papeleta : 'presidente',
    };
  });
}

async function openDashboard(
  width: number,
  height: number,
  { url = base, locale = 'es-GT' } = {},
): Promise<Page> {
  if (browser === undefined) throw new Error('Chromium did not start');
  const context = await browser.newContext({ viewport: { width, height }, locale });
  const page = await context.newPage();
  await page.goto(url);
  await page
    .getByTestId('live')
    .filter({ hasText: locale.startsWith('es') ? 'En vivo' : 'Live' })
    .waitFor();
  return page;
}

/** Every view drew something: bars, pie slices and table rows. */
async function expectEveryView(page: Page): Promise<void> {
  const count = (panel: string, selector: string) =>
    page.getByTestId(panel).locator(selector).count();
  await page.getByTestId('top-departments').locator('.recharts-bar-rectangle').first().waitFor();
  await page.getByTestId('municipality-share').locator('.recharts-pie-sector').first().waitFor();
  expect(await count('top-departments', '.recharts-bar-rectangle')).toBe(3);
  expect(await count('top-sedes', '.recharts-bar-rectangle')).toBe(5);
  expect(await count('department-share', '.recharts-pie-sector')).toBeGreaterThan(1);
  expect(await count('municipality-share', '.recharts-pie-sector')).toBeGreaterThan(0);
  expect(await count('recent', 'tbody tr')).toBe(5);
  expect(await count('ballots', 'tbody tr')).toBe(20);
  for (const name of ['Top 3 departamentos', 'Top 5 sedes', 'Partidos por departamento']) {
    await expect(page.getByRole('heading', { name: new RegExp(name) }).isVisible()).resolves.toBe(
      true,
    );
  }
}

beforeAll(async () => {
  const port = await freePort();
  startProcess(process.execPath, [agoraCli, 'run', 'election-api', '--port', String(port)], {
    env: {
      ...process.env,
      REDIS_URL: testRedisUrl,
      DATABASE_URL: testDatabaseUrl,
      AGORA_DB_SCHEMA: schema,
      AGORA_REDIS_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    },
  });
  base = `http://127.0.0.1:${port}`;
  // A second API on a schema of its own that never gets a ballot: the empty dashboard.
  const emptyPort = await freePort();
  startProcess(process.execPath, [agoraCli, 'run', 'election-api', '--port', String(emptyPort)], {
    env: {
      ...process.env,
      REDIS_URL: testRedisUrl,
      DATABASE_URL: testDatabaseUrl,
      AGORA_DB_SCHEMA: emptySchema,
      AGORA_REDIS_PREFIX: `${prefix}empty:`,
      LOG_LEVEL: 'warn',
    },
  });
  emptyBase = `http://127.0.0.1:${emptyPort}`;
  await waitForHttp(`${base}/readyz`, { status: 200, timeoutMs: 30_000 });
  await waitForHttp(`${emptyBase}/readyz`, { status: 200, timeoutMs: 30_000 });
  await storeBallots(sql, broker, ballots(200), 'grpc');
  await storeBallots(sql, broker, ballots(100), 'redis');
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeBrowser(browser);
  await killAll();
  await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sql.query(`DROP SCHEMA IF EXISTS ${emptySchema} CASCADE`);
  await sql.close();
  await broker.close();
});

describe('the election dashboard', () => {
  it(
    'says on every card that there are no ballots yet, instead of loading forever',
    async () => {
      for (const [width, viewport] of Object.entries(viewports)) {
        const page = await openDashboard(viewport.width, viewport.height, { url: emptyBase });
        await page.getByTestId('summary-total').filter({ hasText: /^0$/ }).waitFor();
        const cards = ['top-departments', 'top-sedes', 'department-share', 'municipality-share'];
        for (const card of [...cards, 'recent']) {
          await page.getByTestId(card).getByText('Aún no hay papeletas.').waitFor();
        }
        expect(await page.getByText('Cargando…').count()).toBe(0);
        expect(await sidewaysOverflow(page)).toBe(0);
        await saveScreenshot(page, `election-dashboard-empty-${width}`);
        await page.context().close();
      }
    },
    browserTestMs,
  );

  it(
    'speaks English to an English browser, with a switch back to Spanish',
    async () => {
      const page = await openDashboard(1280, 900, { locale: 'en-US' });
      await page.getByRole('heading', { name: 'Election results' }).waitFor();
      await page.getByRole('heading', { name: /Top 3 departments/ }).waitFor();
      await page.getByTestId('top-sedes').locator('.recharts-bar-rectangle').nth(4).waitFor();
      await saveScreenshot(page, 'election-dashboard-en-desktop');
      await page.getByRole('link', { name: 'Español' }).click();
      await page.getByRole('heading', { name: 'Resultados electorales' }).waitFor();
      await page.context().close();
    },
    browserTestMs,
  );

  it(
    'shows every chart and table at desktop width, and a new batch without reload',
    async () => {
      const page = await openDashboard(1280, 900);
      await page.getByTestId('summary-total').filter({ hasText: /^300$/ }).waitFor();
      expect(await page.getByTestId('summary-grpc').textContent()).toBe('200');
      expect(await page.getByTestId('summary-redis').textContent()).toBe('100');
      await expectEveryView(page);

      const batch = ballots(50);
      await storeBallots(sql, broker, batch, 'redis');
      await page.getByTestId('summary-total').filter({ hasText: /^350$/ }).waitFor();
      await page.getByTestId('summary-redis').filter({ hasText: /^150$/ }).waitFor();
      const newest = batch.at(-1)?.id ?? '';
      const newestSeq = await sql.query<{ seq: string }>('SELECT seq FROM ballots WHERE id = $1', [
        newest,
      ]);
      await page
        .getByTestId('ballots')
        .locator('tbody tr')
        .first()
        .locator('td')
        .first()
        .filter({ hasText: newestSeq.rows[0]?.seq ?? '?' })
        .waitFor();
      await page
        .getByTestId('recent')
        .locator('tbody tr')
        .first()
        .getByText(batch.at(-1)?.sede ?? '?')
        .first()
        .waitFor();

      // The table pages and filters on the server.
      const table = page.getByTestId('ballots');
      await table.getByRole('button', { name: 'Siguiente' }).click();
      await page
        .getByTestId('ballots-page')
        .filter({ hasText: /^Página 2 de 18/ })
        .waitFor();
      const guatemala = await sql.query<{ n: string }>(
        `SELECT count(*) AS n FROM ballots WHERE departamento = 'Guatemala'`,
      );
      await table.getByLabel('Departamento').selectOption('Guatemala');
      await page
        .getByTestId('ballots-page')
        .filter({
          hasText: new RegExp(`^Página 1 de \\d+ · ${guatemala.rows[0]?.n ?? '?'} papeletas$`),
        })
        .waitFor();
      const shown = await table.locator('tbody tr td:nth-child(5)').allTextContents();
      expect(new Set(shown)).toEqual(new Set(['Guatemala']));

      // Another ballot type redraws the charts for it.
      await page.getByLabel('Tipo de papeleta').selectOption('diputados');
      await page.getByRole('heading', { name: 'Top 3 departamentos · diputados' }).waitFor();
      await page
        .getByTestId('top-departments')
        .locator('.recharts-bar-rectangle')
        .first()
        .waitFor();

      if (process.env.AGORA_SCREENSHOT === '1') {
        await page.getByLabel('Tipo de papeleta').selectOption('presidente');
        await table.getByLabel('Departamento').selectOption('');
        await page
          .getByTestId('ballots-page')
          .filter({ hasText: /^Página 1 de 18/ })
          .waitFor();
        await page.getByTestId('top-sedes').locator('.recharts-bar-rectangle').nth(4).waitFor();
        await saveScreenshot(page, 'election-dashboard-desktop');
      }
      // Nothing is clipped at 1280 px: the page does not scroll sideways.
      expect(await sidewaysOverflow(page)).toBe(0);
      await page.context().close();
    },
    browserTestMs,
  );

  it(
    'fits a phone screen: one column, every view drawn, no sideways scrolling',
    async () => {
      const page = await openDashboard(390, 844);
      await page.getByTestId('summary-total').filter({ hasText: /^350$/ }).waitFor();
      await expectEveryView(page);
      // A string, as the test's tsconfig has no DOM types; it runs in the page.
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow).toBe(0);
      const boxes = await Promise.all(
        ['top-departments', 'top-sedes'].map((id) => page.getByTestId(id).boundingBox()),
      );
      // Stacked, not side by side.
      expect(boxes[1]?.y ?? 0).toBeGreaterThan((boxes[0]?.y ?? 0) + (boxes[0]?.height ?? 0) - 1);
      // The wide tables say that they scroll.
      await expect(
        page.getByTestId('ballots').getByText('Desliza la tabla').isVisible(),
      ).resolves.toBe(true);
      await saveScreenshot(page, 'election-dashboard-phone');
      await page.context().close();
    },
    browserTestMs,
  );
});
