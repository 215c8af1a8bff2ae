// Measures the dashboard's first page in headless Chromium: bytes
// transferred (compressed, as the server sends them) for the page itself
// (HTML, scripts, styles, icon) and for the API data it then loads, and
// the time until the home page is interactive (its data drawn, the main
// thread idle). Prints a table; docs/benchmarks.md records it.
//
//   STEWARD_URL=http://127.0.0.1:8420 node ui/e2e/measure.mjs [runs]

import { launch } from './browser.mjs';

const BASE = process.env.STEWARD_URL;
if (!BASE) throw new Error('set STEWARD_URL to a running steward serve');
const RUNS = Number(process.argv[2] ?? 5);

async function measureOnce(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const client = await context.newCDPSession(page);
  await client.send('Network.enable');
  await client.send('Network.setCacheDisabled', { cacheDisabled: true });
  const requests = new Map();
  client.on('Network.responseReceived', ({ requestId, response, type }) => {
    requests.set(requestId, { url: response.url, type, encoding: response.headers['content-encoding'] ?? '', bytes: 0 });
  });
  client.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    const request = requests.get(requestId);
    if (request) request.bytes = encodedDataLength;
  });
  const started = Date.now();
  await page.goto(BASE + '/', { waitUntil: 'load' });
  await page.locator('main h1').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('main .loading'));
  // Interactive: the home page's data is drawn and a task posted now runs at once.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
  const interactive = Date.now() - started;
  const timing = await page.evaluate(() => {
    const navigation = performance.getEntriesByType('navigation')[0];
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    return { domContentLoaded: navigation.domContentLoadedEventEnd, firstPaint: paint?.startTime ?? null };
  });
  await context.close();
  const all = [...requests.values()];
  const isApi = (request) => new URL(request.url).pathname.startsWith('/api/');
  const assets = all.filter((request) => !isApi(request));
  return {
    interactive,
    ...timing,
    assetBytes: assets.reduce((sum, request) => sum + request.bytes, 0),
    apiBytes: all.filter(isApi).reduce((sum, request) => sum + request.bytes, 0),
    assets: assets.map((request) => `${new URL(request.url).pathname} ${request.bytes} B ${request.encoding || 'identity'}`),
  };
}

const browser = await launch();
const results = [];
await measureOnce(browser); // warms the server and the browser's own start-up
for (let run = 0; run < RUNS; run++) results.push(await measureOnce(browser));
await browser.close();

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
const pick = (key) => results.map((result) => result[key]);
console.log(`runs: ${RUNS} (after one warm-up)`);
console.log('| measure | median | range |');
console.log('|---|---|---|');
console.log(`| first page transferred (HTML, JS, CSS, icon; compressed) | ${(median(pick('assetBytes')) / 1024).toFixed(1)} KB | ${spread(pick('assetBytes').map((bytes) => bytes / 1024))} KB |`);
console.log(`| API data the home page loads | ${(median(pick('apiBytes')) / 1024).toFixed(1)} KB | ${spread(pick('apiBytes').map((bytes) => bytes / 1024))} KB |`);
console.log(`| first contentful paint | ${median(pick('firstPaint')).toFixed(0)} ms | ${spread(pick('firstPaint'))} ms |`);
console.log(`| DOMContentLoaded | ${median(pick('domContentLoaded')).toFixed(0)} ms | ${spread(pick('domContentLoaded'))} ms |`);
console.log(`| interactive (home data drawn, main thread idle) | ${median(pick('interactive')).toFixed(0)} ms | ${spread(pick('interactive'))} ms |`);
console.log('\nfiles of the first page:');
for (const line of results[0].assets) console.log(`  ${line}`);
