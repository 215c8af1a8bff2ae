// The dashboard on a server that requires authentication, in headless
// Chromium: the login page (a wrong password refused with the server's
// message), a session whose change (archiving an agent) carries the CSRF
// token, the access page (a token created, shown once, used, revoked), and
// logging out. Started by crates/cli/tests/it/dashboard_browser.rs:
//
//   STEWARD_URL=… STEWARD_TOKEN=<admin token> STEWARD_USER=… STEWARD_PASSWORD=… node ui/e2e/login.mjs

import { assertNoProblems, check, launch, openPage, seriousViolations } from './browser.mjs';

const BASE = process.env.STEWARD_URL;
const TOKEN = process.env.STEWARD_TOKEN;
const USER = process.env.STEWARD_USER;
const PASSWORD = process.env.STEWARD_PASSWORD;
if (!BASE || !TOKEN || !USER || !PASSWORD) throw new Error('set STEWARD_URL, STEWARD_TOKEN, STEWARD_USER and STEWARD_PASSWORD');

async function api(path, init = {}) {
  const response = await fetch(BASE + '/api/v1' + path, {
    ...init,
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${TOKEN}` },
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

const agent = await api('/agents', { method: 'POST', body: JSON.stringify({ name: 'Behind a login', goal: 'Stay safe' }) });
const browser = await launch();
const page = await openPage(browser, BASE);
page.setDefaultTimeout(30_000);
try {
  console.log('-- the login page instead of the dashboard');
  await page.goto(`/agents/${agent.id}`);
  await page.getByRole('heading', { name: 'Log in to Steward' }).waitFor();
  const violations = await seriousViolations(page);
  check(violations.length === 0, `accessibility problems on the login page: ${JSON.stringify(violations)}`);

  console.log('-- a wrong password is refused with the server message');
  await page.getByLabel('User name').fill(USER);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'wrong user name or password' }).waitFor();

  console.log('-- logged in, a change carries the CSRF token');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Behind a login', level: 1 }).waitFor();
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Archive' }).click();
  for (let waited = 0; (await api(`/agents/${agent.id}`)).status !== 'archived'; waited += 50) {
    check(waited < 30_000, 'the archive did not happen');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  console.log('-- access: a token is shown once, works, and is revoked');
  await page.getByRole('link', { name: 'Access' }).click();
  await page.getByRole('heading', { name: 'Access', level: 1 }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('browser ci');
  await page.getByLabel('Scope').selectOption('read');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  const secret = (await page.locator('.token-secret').textContent()).trim();
  const bearer = { headers: { authorization: `Bearer ${secret}` } };
  const used = await fetch(`${BASE}/api/v1/agents`, bearer);
  check(used.ok, `the new token works: ${used.status}`);
  await page.getByRole('row', { name: /browser ci/ }).waitFor();
  check((await page.getByRole('cell', { name: USER, exact: true }).count()) >= 1, 'an administrator sees the users');
  const accessViolations = await seriousViolations(page);
  check(accessViolations.length === 0, `accessibility problems on the access page: ${JSON.stringify(accessViolations)}`);
  await page.getByRole('button', { name: 'Done' }).click();
  check((await page.getByText(secret).count()) === 0, 'the secret is shown only once');
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Revoke browser ci' }).click();
  await page.getByRole('row', { name: /browser ci/ }).getByText('revoked').waitFor();
  const refused = await fetch(`${BASE}/api/v1/agents`, bearer);
  check(refused.status === 401, `the revoked token is refused: ${refused.status}`);

  console.log('-- logged out, the login page again');
  await page.getByRole('button', { name: `Log out ${USER}` }).click();
  await page.getByRole('heading', { name: 'Log in to Steward' }).waitFor();
  assertNoProblems(page, 'the login journey');
  console.log('login journey: ok');
} finally {
  await browser.close();
}
