/**
 * The console page in Chromium on a distributed voting stack: a voting load started from the
 * page, a worker killed and restarted from the page, the pending count rising with what the
 * dead worker held and draining to zero once reclaimed, the timeline showing the kill and the
 * reclaim, and the load's verification passing. Screenshots at both widths.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Snapshot } from '../../src/console/snapshot.js';
import {
  closeBrowser,
  launchBrowser,
  saveScreenshot,
  sidewaysOverflow,
  viewports,
} from '../support/browser.js';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.js';
import { killAll, waitFor } from '../support/processes.js';

let browser: Browser;
let stack: ConsoleStack;

beforeAll(async () => {
  browser = await launchBrowser();
  stack = await startConsoleStack(
    ['vote', 'worker', 'result', '--replicas', 'worker=2', '--faults'],
    {
      VOTE_RECLAIM_IDLE_MS: '2000',
    },
  );
}, 60_000);

afterAll(async () => {
  await closeBrowser(browser);
  await killAll();
});

const snapshot = async () =>
  (await (await fetch(`${stack.consoleUrl}/api/snapshot`)).json()) as Snapshot;

/** The votes stream's pending count as the page shows it. */
async function pendingOnPage(page: Page): Promise<number> {
  const text = await page
    .locator('[data-stream="votes"] [data-figure="pending"] .figure-value')
    .textContent();
  return Number(text);
}

it('runs a voting load, kills a worker from the page, and shows nothing was lost', async () => {
  const page = await browser.newPage({ viewport: viewports.desktop, locale: 'en-US' });
  await page.goto(`${stack.consoleUrl}/`);
  await page.getByText('Live').waitFor();
  await page.locator('[data-service="worker"].ready').waitFor({ timeout: 30_000 });
  await page.getByLabel('Action token').fill(stack.token);
  // Before any vote the figures say there is nothing yet, not a row of dashes.
  await page.getByText('No load run yet').waitFor();
  await page.getByText('voting: no votes just now').waitFor();
  await page
    .locator('tr[data-process="vote"] .empty', { hasText: 'no requests' })
    .first()
    .waitFor();

  await page.locator('.load-form input').first().fill('60');
  await page.locator('.load-form input').nth(1).fill('12');
  await page.getByRole('button', { name: 'Start load' }).click();
  await page.locator('[data-load].running').waitFor();

  await waitFor(async () => ((await snapshot()).queues[0]?.length ?? 0) > 0, {
    timeoutMs: 15_000,
    message: 'votes in the stream',
  });
  // Slower commits keep each worker holding a batch, so the one killed leaves entries behind:
  // 100 ms of latency between the workers and Postgres, set from the page's fault form.
  const faults = page.locator('form.fault-form');
  await faults.getByLabel('target').selectOption({ label: 'worker · Postgres' });
  await faults.getByLabel('kind').selectOption('latency');
  await faults.getByLabel('latency').fill('100');
  await faults.getByLabel('seconds').fill('6');
  await faults.getByRole('button', { name: 'Apply' }).click();
  await page.locator('.event[data-kind="fault"]', { hasText: 'latency' }).first().waitFor();
  await waitFor(async () => (await pendingOnPage(page)) > 0, {
    timeoutMs: 10_000,
    message: 'entries pending while the workers commit',
  });
  const pendingAtKill = await pendingOnPage(page);
  await page.locator('tr[data-process="worker#1"] button.danger').click();
  await page.locator('.event[data-kind="killed"]').waitFor();
  // What the dead worker held stays pending beside what the live one is committing.
  await waitFor(async () => (await pendingOnPage(page)) > pendingAtKill, {
    timeoutMs: 10_000,
    message: () => `the pending count to rise above ${pendingAtKill} after the kill`,
  });
  await page.locator('tr[data-process="worker#1"]', { hasText: 'down' }).waitFor();
  await page
    .locator('tr[data-process="worker#1"]')
    .getByRole('button', { name: 'Restart' })
    .click();
  await page.locator('.event[data-kind="restarted"]').waitFor({ timeout: 15_000 });
  await page
    .locator('.event[data-kind="reclaimed"]', { hasText: /reclaimed \d+ entr/ })
    .first()
    .waitFor({ timeout: 20_000 });

  const finished = page.locator('[data-load]:not(.running)');
  await finished.waitFor({ timeout: 60_000 });
  await expect(finished.getAttribute('class')).resolves.toContain('passed');
  await expect(finished.textContent()).resolves.toMatch(
    /\d+ acknowledged · \d+ checked against the store · 0 differences/,
  );

  // Every acknowledged vote reached Postgres: nothing pending, nothing left to deliver.
  await waitFor(
    async () => {
      const queue = (await snapshot()).queues[0];
      return queue?.pending === 0 && queue.lag === 0;
    },
    { timeoutMs: 20_000, message: 'the votes stream drained' },
  );
  await waitFor(async () => (await pendingOnPage(page)) === 0, {
    timeoutMs: 10_000,
    message: 'the page to show 0 pending',
  });
  await saveScreenshot(page, 'console-desktop');
  expect(await sidewaysOverflow(page)).toBe(0);

  const phone = await browser.newPage({ viewport: viewports.phone, locale: 'es-ES' });
  await phone.goto(`${stack.consoleUrl}/`);
  await phone.getByText('En vivo').waitFor();
  await phone.getByLabel('Token de acciones').fill(stack.token);
  // Every figure of a process, and its buttons, inside the phone's width: none clipped.
  for (const cell of ['td[data-label="p99"]', 'button.danger', 'button >> nth=-1']) {
    const box = await phone.locator(`tr[data-process="worker#1"] ${cell}`).boundingBox();
    expect(box, cell).not.toBeNull();
    expect((box?.x ?? 0) + (box?.width ?? 0), cell).toBeLessThanOrEqual(viewports.phone.width);
  }
  await phone.locator('.event').first().waitFor();
  // What the server sends as facts reads in the page's language.
  await expect(
    phone.locator('.event[data-kind="killed"] .message').first().textContent(),
  ).resolves.toMatch(/^SIGKILL al pid \d+$/);
  await expect(
    phone.locator('.event[data-kind="load"] .message').first().textContent(),
  ).resolves.toMatch(
    /^carga \d+ CORRECTA: \d+ confirmados, \d+ comprobados contra el almacén, 0 diferencias$/,
  );
  await expect(
    phone.locator('.event[data-kind="killed"] .kind').first().textContent(),
  ).resolves.toBe('matado');
  await saveScreenshot(phone, 'console-phone');
  expect(await sidewaysOverflow(phone)).toBe(0);
}, 150_000);
