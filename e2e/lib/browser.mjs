// Launches Debian's Chromium through playwright-core. Playwright's own browser
// download does not work on the CI machines, so the executable is always
// given: $CHROMIUM_PATH, or /usr/bin/chromium.
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const resultsDir = path.resolve(here, '..', 'test-results');

export async function launch() {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`${executablePath} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  mkdirSync(resultsDir, { recursive: true });
  return chromium.launch({
    executablePath,
    headless: true,
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

// screenshot saves a full-page PNG into e2e/test-results/ for humans.
export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(resultsDir, `${name}.png`), fullPage: true });
}
