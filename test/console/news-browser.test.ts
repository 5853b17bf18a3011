/**
 * The console page in Chromium on a distributed news stack (an agent, two nodes, one node per
 * area): a node killed from the page, its areas seen moving to the other node in the news
 * view, with the move on the timeline; then a news load run from the page, verified.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { createAdmin } from '../../src/news/accounts.js';
import { NewsClient } from '../../src/news/client/client.js';
import { PgSql } from '../../src/platform/sql/index.js';
import { testDatabaseUrl } from '../support/backends.js';
import { closeBrowser, launchBrowser, viewports } from '../support/browser.js';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.js';
import { testSecret } from '../support/news.js';
import { killAll, waitFor } from '../support/processes.js';

let browser: Browser;
let stack: ConsoleStack;
const areas = ['music', 'science', 'sports'];

beforeAll(async () => {
  browser = await launchBrowser();
  stack = await startConsoleStack(['news-agent', 'news-node', '--replicas', 'news-node=2'], {
    AGORA_NEWS_SECRET: testSecret,
    NEWS_AREA_REPLICAS: '1',
    // A quick ping finds the killed node; heartbeats keep their default slack, so a busy
    // machine does not take the surviving node for dead too.
    NEWS_HEALTH_CHECK_MS: '250',
  });
  const sql = new PgSql({ url: testDatabaseUrl, schema: stack.schema });
  try {
    // The agent's migrations make the tables; until then creating the admin fails.
    await waitFor(() => createAdmin(sql, 'root', 'root-password').then(() => true), {
      timeoutMs: 30_000,
      message: 'the news schema, to create an admin',
    });
  } finally {
    await sql.close();
  }
  const admin = new NewsClient({
    agent: `127.0.0.1:${stack.ports.get('news-agent')}`,
    retryForMs: 10_000,
  });
  await admin.login('root', 'root-password');
  for (const area of areas) await admin.addArea(area);
}, 90_000);

afterAll(async () => {
  await closeBrowser(browser);
  await killAll();
});

/** Area -> the nodes serving it, as the page's news view shows them. */
async function assignmentsOnPage(page: Page): Promise<Map<string, string>> {
  const rows = await page.locator('[data-view="news"] tr[data-area]').all();
  const shown = new Map<string, string>();
  for (const row of rows) {
    const area = (await row.getAttribute('data-area')) ?? '';
    shown.set(area, (await row.locator('td').nth(1).textContent()) ?? '');
  }
  return shown;
}

it('kills a news node from the page and shows its areas move to the other node', async () => {
  const page = await browser.newPage({ viewport: viewports.desktop, locale: 'en-US' });
  await page.goto(`${stack.consoleUrl}/`);
  await page.getByText('Live').waitFor();
  await page.getByLabel('Action token').fill(stack.token);
  const nodePort = stack.ports.get('news-node') ?? 0;
  const nodes = [`127.0.0.1:${nodePort}`, `127.0.0.1:${nodePort + 1}`];

  const before = await waitFor(
    async () => {
      const shown = await assignmentsOnPage(page);
      const served = areas.every((area) => nodes.includes(shown.get(area) ?? ''));
      return served ? shown : undefined;
    },
    { timeoutMs: 30_000, message: 'every area on one of the two nodes in the news view' },
  );
  // Kill the node serving the first area: its areas must move to the other one.
  const victim = before.get(areas[0] ?? '') ?? '';
  const survivor = nodes.find((node) => node !== victim) ?? '';
  const label = victim === nodes[0] ? 'news-node#1' : 'news-node#2';
  let last = '';
  const moving = areas.filter((area) => before.get(area) === victim);

  await page.locator(`tr[data-process="${label}"] button.danger`).click();
  await page.locator('.event[data-kind="killed"]', { hasText: /SIGKILL/ }).waitFor();
  const after = await waitFor(
    async () => {
      const shown = await assignmentsOnPage(page);
      last = JSON.stringify([...shown]);
      return areas.every((area) => shown.get(area) === survivor) ? shown : undefined;
    },
    {
      timeoutMs: 30_000,
      message: () =>
        `every area on ${survivor} after ${label} was killed: ${last} ${stack.up.output().slice(-3000)}`,
    },
  );
  expect([...after.values()]).not.toContain(victim);
  for (const area of moving) {
    await page
      .locator(`.event[data-kind="reassigned"]`, { hasText: `${area}: ${victim} → ` })
      .first()
      .waitFor();
  }
  await page.locator(`tr[data-process="${label}"]`, { hasText: 'down' }).waitFor();

  // The surviving node serves every area: a news load from the page loses nothing.
  await page.locator('.load-form select').selectOption('news');
  await page.locator('.load-form input').first().fill('20');
  await page.locator('.load-form input').nth(1).fill('3');
  await page.getByRole('button', { name: 'Start load' }).click();
  const finished = page.locator('[data-load]:not(.running)');
  await finished.waitFor({ timeout: 60_000 });
  await expect(finished.textContent()).resolves.toMatch(
    /news #1: PASSED\d+ acknowledged · \d+ checked against the store · 0 differences/,
  );
}, 120_000);
