// "Forget this person" in a real browser against a real `tginvite up` (REHEARSAL account: nothing
// is sent to Telegram): the contact page asks first, in a dialog that names the person and says
// what goes; Cancel changes nothing; confirming erases the contact, returns to the contacts list
// with a notice, and keeps the person suppressed.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ARTIFACTS, PASSWORD, apiSession, createCampaign, createWorkspace, launchBrowser, removeWorkspace,
  startServer,
} from './harness.js';

describe('forget a person', () => {
  let ws;
  let server;
  let browser;
  let page;
  let api;
  let erin;  // the contact to forget, as GET /contacts shows it
  const errors = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ws = createWorkspace();
    ws.cli('account', 'add', 'rehearsal');
    createCampaign(ws, 'spring');  // a draft: nothing is sent
    ws.cli('import', ws.file('people.csv',
      'telegram_user_id,username,first_name,last_name,phone,consent\n'
      + '5001,erin_erased,Erin,Example,,yes\n5002,frank_stays,Frank,Keeper,,yes\n'),
    '--campaign', 'spring');
    server = await startServer(ws);
    api = await apiSession(server.url);
    const { body } = await api('GET', '/contacts?q=erin');
    erin = body.contacts.find((c) => c.username === 'erin_erased');
    assert.ok(erin, JSON.stringify(body));

    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => { errors.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
    await page.goto(server.url);
    await page.getByLabel('Admin password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    if (server) {
      const log = server.log();
      await server.stop();
      if (process.exitCode) console.log(`--- server log (tail) ---\n${log.split('\n').slice(-40).join('\n')}`);
    }
    removeWorkspace(ws);
  });

  test('cancel in the confirmation changes nothing', async () => {
    await page.goto(`${server.url}/#/contacts/${erin.id}`);
    await page.getByRole('heading', { name: erin.label, level: 1 }).waitFor();
    assert.equal(await page.getByText('undefined', { exact: true }).count(), 0);
    await page.getByRole('button', { name: 'Forget this person…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const text = await dialog.textContent();
    assert.match(text, new RegExp(`Forget ${erin.label}\\?`));
    assert.match(text, /every invitation/);
    assert.match(text, /stay suppressed/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-forget-confirm.png') });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });

    assert.match(page.url(), new RegExp(`#/contacts/${erin.id}$`));
    const { status } = await api('GET', `/contacts/${erin.id}`);
    assert.equal(status, 200, 'the contact was deleted although the dialog was cancelled');
    const spring = await api('GET', '/campaigns/spring');
    assert.equal(spring.body.counts.pending + spring.body.counts.awaiting_start, 2);
    const { body } = await api('GET', '/suppressions');
    assert.deepEqual(body.suppressions, []);
    assert.deepEqual(errors, []);
  });

  test('confirming forgets the person and returns to the contacts list with a notice', async () => {
    await page.goto(`${server.url}/#/contacts/${erin.id}`);
    await page.getByRole('heading', { name: erin.label, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Forget this person…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Forget this person' }).click();

    await page.waitForURL(/#\/contacts$/);
    const notice = page.locator('#notice').getByRole('status');
    await notice.waitFor();
    const said = await notice.textContent();
    assert.match(said, new RegExp(`${erin.label} was forgotten`));
    assert.match(said, /deleted 1 contact, 1 invitation, 0 invite links and 1 start link/);
    await page.getByRole('heading', { name: 'Contacts' }).waitFor();
    await page.getByText('frank_stays').first().waitFor();
    assert.equal(await page.getByText('erin_erased').count(), 0, 'the forgotten contact is still listed');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-forget-done.png') });

    const { status } = await api('GET', `/contacts/${erin.id}`);
    assert.equal(status, 404);
    const { body } = await api('GET', '/suppressions');
    const keys = body.suppressions.map((s) => s.key).sort();
    assert.deepEqual(keys, ['id:5001', 'username:erin_erased']);
    assert.deepEqual(errors, []);
  });
});
