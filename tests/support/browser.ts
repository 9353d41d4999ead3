/**
 * A real browser for end-to-end tests: Debian's Chromium driven by playwright-core (never a
 * downloaded browser). One browser per test file; screenshots go to `.data/e2e-screenshots/`
 * (or SIEM_SCREENSHOT_DIR), which the test run prints so a person can look at every page.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT, requireTool } from './env.ts';

export const CHROMIUM_PATH = process.env.SIEM_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR =
  process.env.SIEM_SCREENSHOT_DIR ?? path.join(REPO_ROOT, '.data', 'e2e-screenshots');

/** Launches headless Chromium, or skips (fails in CI) when it is not installed. */
export async function launchBrowser(t: TestContext): Promise<Browser | undefined> {
  if (!requireTool(t, 'chromium', 'chromium')) return undefined;
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
