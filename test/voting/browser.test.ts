/**
 * The voting app as people use it, in Chromium, with `agora up` embedded (in-memory broker,
 * PGlite): a vote cast in one page shows on the result page open in another, without reload.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import {
  closeBrowser,
  launchBrowser,
  saveScreenshot,
  sidewaysOverflow,
  viewports,
} from '../support/browser.js';
import { agoraCli, freePort, killAll, startProcess, waitForHttp } from '../support/processes.js';

let browser: Browser;
const ports = { vote: 0, result: 0, worker: 0 };

beforeAll(async () => {
  for (const name of ['vote', 'result', 'worker'] as const) ports[name] = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AGORA_VOTE_PORT: String(ports.vote),
    AGORA_RESULT_PORT: String(ports.result),
    AGORA_WORKER_PORT: String(ports.worker),
    AGORA_VOTE_PUBLIC_URL: `http://127.0.0.1:${ports.vote}/`,
    AGORA_RESULT_PUBLIC_URL: `http://127.0.0.1:${ports.result}/`,
    AGORA_DATA_DIR: await mkdtemp(join(tmpdir(), 'agora-voting-')),
    LOG_LEVEL: 'warn',
  };
  delete env.REDIS_URL;
  delete env.DATABASE_URL;
  startProcess(process.execPath, [agoraCli, 'up', 'vote', 'worker', 'result'], { env });
  for (const port of Object.values(ports)) {
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { status: 200, timeoutMs: 30_000 });
  }
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeBrowser(browser);
  await killAll();
});

it('shows "no votes yet" before the first vote, at desktop and phone width, in both languages', async () => {
  for (const [width, viewport] of Object.entries(viewports)) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${ports.result}/`);
    await page.locator('#live', { hasText: 'live' }).waitFor();
    expect(await page.locator('#total').textContent()).toBe('No votes yet');
    expect(await page.locator('[data-option="a"] .percent').textContent()).toBe('–');
    expect(await sidewaysOverflow(page)).toBe(0);
    await saveScreenshot(page, `result-empty-${width}`);
    await page.goto(`http://127.0.0.1:${ports.vote}/`);
    expect(await sidewaysOverflow(page)).toBe(0);
    await saveScreenshot(page, `vote-${width}`);
    await page.getByRole('link', { name: 'Español' }).click();
    await page.getByText('Aún no has votado').waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('es');
    await saveScreenshot(page, `vote-es-${width}`);
    await context.close();
  }
});

it('shows a vote on the open result page without reload', async () => {
  const results = await (await browser.newContext()).newPage();
  await results.goto(`http://127.0.0.1:${ports.result}/`);
  await results.locator('#live', { hasText: 'live' }).waitFor();
  expect(await results.locator('#total').textContent()).toBe('No votes yet');

  const voter = await (await browser.newContext()).newPage();
  await voter.goto(`http://127.0.0.1:${ports.vote}/`);
  await voter.getByRole('button', { name: 'Cats' }).click();
  await voter.getByText('You voted for Cats').waitFor();

  await results.locator('#total', { hasText: '1 vote' }).waitFor({ timeout: 10_000 });
  expect(await results.locator('[data-option="a"] .percent').textContent()).toBe('100%');

  // Changing the vote moves the count; the total stays one voter.
  await voter.getByRole('button', { name: 'Dogs' }).click();
  await voter.getByText('You voted for Dogs').waitFor();
  await results
    .locator('[data-option="b"] .percent', { hasText: '100%' })
    .waitFor({ timeout: 10_000 });
  expect(await results.locator('#total').textContent()).toBe('1 vote');

  // The vote page links to the results and back; the reload after a vote does not post again.
  await voter.reload();
  await voter.getByText('You voted for Dogs').waitFor();
  await voter.getByRole('link', { name: 'See the live results' }).click();
  await voter.locator('#total', { hasText: '1 vote' }).waitFor();
  await voter.getByRole('link', { name: 'Cast your vote' }).click();
  await voter.getByText('You voted for Dogs').waitFor();
});

it('looks finished with votes in, at desktop and phone width', async () => {
  // Two more voters for Cats, so the panels and the bar show an uneven split.
  for (let index = 0; index < 2; index += 1) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${ports.vote}/`);
    await page.getByRole('button', { name: 'Cats' }).click();
    await page.getByText('You voted for Cats').waitFor();
    await context.close();
  }
  for (const [width, viewport] of Object.entries(viewports)) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${ports.result}/`);
    await page.locator('#total', { hasText: '3 votes' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-option="a"] .percent').textContent()).toBe('66.7%');
    expect(await sidewaysOverflow(page)).toBe(0);
    await saveScreenshot(page, `result-${width}`);
    await context.close();
  }
  // One voter, who has voted, seen at both widths.
  const context = await browser.newContext({ viewport: viewports.desktop });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${ports.vote}/`);
  await page.getByRole('button', { name: 'Dogs' }).click();
  await page.getByText('You voted for Dogs').waitFor();
  for (const [width, viewport] of Object.entries(viewports)) {
    await page.setViewportSize(viewport);
    expect(await sidewaysOverflow(page)).toBe(0);
    await saveScreenshot(page, `vote-chosen-${width}`);
  }
  await context.close();
});
