// Shared by the browser tests: Debian's Chromium driven by playwright-core
// (never a browser a tool downloads), pages that fail on any script error
// or CSP violation, axe-core run inside the page, and screenshots.

import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.STEWARD_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** A page whose script errors, failed requests to the server and CSP refusals are collected. */
export async function openPage(browser, baseURL, { width = 1280, height = 860, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ baseURL, viewport: { width, height }, colorScheme, timezoneId: 'Europe/Berlin', locale: 'en-GB' });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(`script error: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' && !/the server responded with a status of (401|404|409|422)/.test(text)) {
      page.problems.push(`console error: ${text}`);
    }
    if (/Content Security Policy/i.test(text)) page.problems.push(`CSP: ${text}`);
  });
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin !== new URL(baseURL).origin && url.protocol !== 'data:') page.problems.push(`request to another origin: ${request.url()}`);
  });
  return page;
}

export function assertNoProblems(page, where) {
  if (page.problems.length > 0) throw new Error(`${where}: ${page.problems.join('\n')}`);
}

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core in the page (injected through the debugging protocol, which
 * the page's CSP does not govern) and returns the serious and critical
 * violations.
 */
export async function seriousViolations(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const report = await axe.run(document, { resultTypes: ['violations'] });
    return report.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.slice(0, 3).map((node) => node.target.join(' ')),
    }));
  });
  return result.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

export function screenshotter(directory) {
  mkdirSync(directory, { recursive: true });
  return async (page, name) => {
    const file = join(directory, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}
