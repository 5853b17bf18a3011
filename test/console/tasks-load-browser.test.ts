/**
 * A tasks load run from the console page on a distributed tasks stack: the page offers the
 * tasks profile, runs it, and shows its verification (acknowledged against stored).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { closeBrowser, launchBrowser, viewports } from '../support/browser.js';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.js';
import { killAll } from '../support/processes.js';

let browser: Browser;
let stack: ConsoleStack;

beforeAll(async () => {
  browser = await launchBrowser();
  stack = await startConsoleStack(['tasks']);
}, 60_000);

afterAll(async () => {
  await closeBrowser(browser);
  await killAll();
});

it('runs agora load tasks from the page and shows it PASSED', async () => {
  const page = await browser.newPage({ viewport: viewports.desktop, locale: 'en-US' });
  await page.goto(`${stack.consoleUrl}/`);
  await page.locator('[data-service="tasks"].ready').waitFor({ timeout: 30_000 });
  await page.getByLabel('Action token').fill(stack.token);
  await expect(page.locator('.load-form select option').allTextContents()).resolves.toEqual([
    'tasks',
  ]);
  await page.locator('.load-form input').first().fill('40');
  await page.locator('.load-form input').nth(1).fill('3');
  await page.getByRole('button', { name: 'Start load' }).click();
  await page.getByText('A tasks load started.').waitFor();
  const finished = page.locator('[data-load]:not(.running)');
  await finished.waitFor({ timeout: 60_000 });
  await expect(finished.getAttribute('class')).resolves.toContain('passed');
  await expect(finished.textContent()).resolves.toMatch(
    /tasks #1: PASSED\d+ acknowledged · \d+ checked against the store · 0 differences/,
  );
}, 90_000);
