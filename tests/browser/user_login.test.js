// A user account logged in from the dashboard's accounts page, in a real browser against a real
// `tginvite up` that finds the fake TDLib (tests/fakes/fake_tdjson) through $TGINVITE_TDJSON: the
// code (a wrong one first), the 2-step password with its hint, then "logged in as @username".
// Skipped when CTest did not say where the fake is ($TGINVITE_FAKE_TDJSON).

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ARTIFACTS, PASSWORD, apiSession, createWorkspace, launchBrowser, removeWorkspace, startServer,
} from './harness.js';

const FAKE = process.env.TGINVITE_FAKE_TDJSON;
const CODE = '24680';
const TWO_STEP = 'browser-2fa-secret';

describe('user account login', { skip: FAKE ? false : 'the fake TDLib is not built ($TGINVITE_FAKE_TDJSON)' }, () => {
  let ws;
  let server;
  let browser;
  let page;
  let api;
  const bodies = [];
  const errors = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ws = createWorkspace();
    ws.env.TGINVITE_TDJSON = FAKE;
    ws.env.TGINVITE_TDLIB_DIR = join(ws.dir, 'tdlib');
    ws.env.TGINVITE_FAKE_TDJSON_SCENARIO = ws.file('scenario.json', JSON.stringify({
      me: { id: 1000, username: 'staff_inviter', first_name: 'Ina' },
      auth: { code: CODE, password: TWO_STEP, password_hint: 'the usual one' },
    }));
    ws.env.TG_API_ID = '1234567';
    ws.env.TG_API_HASH = '0123456789abcdef0123456789abcdef';
    ws.cli('account', 'add', 'staff', '--user', '--api-id-env', 'TG_API_ID', '--api-hash-env',
      'TG_API_HASH', '--phone', '+15550000000', '--no-login');
    ws.cli('account', 'add', 'rehearsal');
    server = await startServer(ws);
    api = await apiSession(server.url);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 768 } })).newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('response', async (response) => {
      if (response.url().includes('/login')) bodies.push(await response.text().catch(() => ''));
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    if (server) {
      const log = server.log();
      await server.stop();
      if (process.exitCode) console.log(`--- server log (tail) ---\n${log.split('\n').slice(-40).join('\n')}`);
      for (const secret of [CODE, TWO_STEP, '13579']) assert.ok(!log.includes(secret), `the log carried ${secret}`);
    }
    removeWorkspace(ws);
  });

  test('logs in with a code (a wrong one first) and the 2-step password', async () => {
    await page.goto(server.url);
    await page.getByLabel('Admin password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await page.goto(`${server.url}/#/accounts`);
    await page.getByRole('heading', { name: 'Accounts' }).waitFor();
    // Only the user account has the button (the table fills in after the heading).
    const button = page.locator('button.login-account[data-account="staff"]');
    await button.waitFor();
    await page.getByRole('cell', { name: 'rehearsal', exact: true }).first().waitFor();
    assert.equal(await page.locator('button.login-account').count(), 1);
    await button.click();

    await page.getByText('Telegram sent a login code').waitFor();
    await page.getByLabel('Login code').fill('13579');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('not accepted').waitFor();
    await page.getByLabel('Login code').fill(CODE);
    await page.getByRole('button', { name: 'Send' }).click();

    await page.getByText('Hint: the usual one').waitFor();
    const password = page.getByLabel('2-step verification password');
    assert.equal(await password.getAttribute('type'), 'password');
    await password.fill(TWO_STEP);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('Logged in as @staff_inviter.').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'accounts-user-login.png'), fullPage: true });

    const { body } = await api('GET', '/accounts');
    const staff = body.accounts.find((a) => a.name === 'staff');
    assert.equal(staff.bot_username, 'staff_inviter');
    for (const text of bodies) {
      for (const secret of [CODE, TWO_STEP, '13579']) assert.ok(!text.includes(secret), `an answer carried ${secret}`);
    }
    assert.deepEqual(errors, []);
  });
});
