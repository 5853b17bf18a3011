/**
 * The counter's page in Chromium, under `agora up counter` with the embedded broker and under
 * `agora run counter` with real Redis: it says what holds the count (the embedded page never
 * "Hello from Redis!"), fits a phone, and switches to Spanish.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { testRedisUrl, uniqueName } from '../support/backends.js';
import {
  closeBrowser,
  launchBrowser,
  saveScreenshot,
  sidewaysOverflow,
  viewports,
} from '../support/browser.js';
import { agoraCli, freePort, killAll, startProcess, waitForHttp } from '../support/processes.js';

let browser: Browser;
const prefix = `${uniqueName('counter-page')}:`;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeBrowser(browser);
  await killAll();
  const redis = new Redis(testRedisUrl);
  await redis.del(`${prefix}hits`);
  redis.disconnect();
});

it('counts each visit and names the embedded broker, at desktop and phone width', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AGORA_COUNTER_PORT: String(port),
    AGORA_DATA_DIR: await mkdtemp(join(tmpdir(), 'agora-counter-')),
    LOG_LEVEL: 'warn',
  };
  delete env.REDIS_URL;
  delete env.DATABASE_URL;
  startProcess(process.execPath, [agoraCli, 'up', 'counter'], { env });
  await waitForHttp(`${base}readyz`, { status: 200, timeoutMs: 30_000 });
  for (const [width, viewport] of Object.entries(viewports)) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const favicon = page.waitForResponse((response) => response.url().includes('/favicon'));
    await page.goto(base);
    expect((await favicon).status()).toBe(200);
    await page.getByText('Counted by the embedded broker').waitFor();
    expect(await page.content()).not.toContain('Hello from Redis');
    const before = Number((await page.locator('#hits').textContent())?.replace(/\D/g, ''));
    await page.getByRole('link', { name: 'Reload to count another visit' }).click();
    await page.locator('#hits', { hasText: String(before + 1) }).waitFor();
    expect(await sidewaysOverflow(page)).toBe(0);
    await saveScreenshot(page, `counter-${width}`);
    await page.getByRole('link', { name: 'Español' }).click();
    await page.getByText('Contado por el broker embebido').waitFor();
    await saveScreenshot(page, `counter-es-${width}`);
    await context.close();
  }
});

it('counts each visit in Redis and says so, at desktop and phone width', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  startProcess(process.execPath, [agoraCli, 'run', 'counter', '--port', String(port)], {
    env: { ...process.env, REDIS_URL: testRedisUrl, AGORA_REDIS_PREFIX: prefix, LOG_LEVEL: 'warn' },
  });
  await waitForHttp(`${base}readyz`, { status: 200, timeoutMs: 30_000 });
  for (const [width, viewport] of Object.entries(viewports)) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(base);
    await page.getByText('Counted in Redis (INCRBY on the key hits)').waitFor();
    const before = Number((await page.locator('#hits').textContent())?.replace(/\D/g, ''));
    await page.getByRole('link', { name: 'Reload to count another visit' }).click();
    await page.locator('#hits', { hasText: String(before + 1) }).waitFor();
    expect(await sidewaysOverflow(page)).toBe(0);
    await saveScreenshot(page, `counter-redis-${width}`);
    await page.getByRole('link', { name: 'Español' }).click();
    await page.getByText('Contado en Redis (INCRBY sobre la clave hits)').waitFor();
    await saveScreenshot(page, `counter-redis-es-${width}`);
    await context.close();
  }
});
