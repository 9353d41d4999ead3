/**
 * A real browser for end-to-end tests: Debian's Chromium driven by playwright-core (never a
 * downloaded browser). One browser per test file; screenshots go to `.data/e2e-screenshots/`
 * (or SIEM_SCREENSHOT_DIR), which the test run prints so a person can look at every page.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { SuiteContext, TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { missingPackage, REPO_ROOT, skipMissing, whichTool } from './env.ts';

/**
 * SIEM_CHROMIUM when set, else `chromium` as found on PATH (Debian's /usr/bin/chromium); the bare
 * name when it is not found, so that a browser hidden from PATH counts as missing.
 */
export const CHROMIUM_PATH = process.env.SIEM_CHROMIUM ?? whichTool('chromium') ?? 'chromium';
export const SCREENSHOT_DIR =
  process.env.SIEM_SCREENSHOT_DIR ?? path.join(REPO_ROOT, '.data', 'e2e-screenshots');

/**
 * Launches headless Chromium, or skips (fails in CI) when it is not installed. From a suite's
 * `before` hook the skip is recorded: its tests then call `skipUnmet(t)` when there is no browser.
 */
export async function launchBrowser(t: TestContext | SuiteContext): Promise<Browser | undefined> {
  if (!path.isAbsolute(CHROMIUM_PATH) || !existsSync(CHROMIUM_PATH)) {
    const missing = missingPackage('chromium', 'chromium');
    if (process.env.SIEM_CHROMIUM)
      missing.detail = `SIEM_CHROMIUM=${process.env.SIEM_CHROMIUM} does not exist`;
    skipMissing(t, missing);
    return undefined;
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-background-networking'],
  });
}

/** Saves a full-page screenshot as `<dir>/<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
