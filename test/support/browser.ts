/**
 * Headless Debian Chromium driven by playwright-core, for tests that check what a person sees.
 * The flags keep Chromium from reaching for the network, which this machine does not have.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { type Browser, chromium, type Page } from 'playwright-core';

import { repoRoot } from './processes.js';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `no Chromium at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Closes the browser, if beforeAll got as far as launching one (its failure is then the news). */
export async function closeBrowser(browser: Browser | undefined): Promise<void> {
  await browser?.close();
}

/** The two widths every page is looked at: a laptop and a phone. */
export const viewports = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/**
 * With AGORA_SCREENSHOT=1, saves the whole page as `docs/screenshots/<name>.png` (the root
 * README shows them); otherwise does nothing, so a test run leaves the tree as it was.
 */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  if (process.env.AGORA_SCREENSHOT !== '1') return;
  const dir = join(repoRoot, 'docs', 'screenshots');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** How many pixels the page scrolls sideways (0 when it fits its width). */
export function sidewaysOverflow(page: Page): Promise<number> {
  // A string, as the tests' tsconfig has no DOM types; it runs in the page.
  return page.evaluate<number>(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  );
}
