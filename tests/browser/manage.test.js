// The dashboard's management pages in a real browser against a real `tginvite up` (REHEARSAL
// account: nothing is sent): creating a campaign with the template's live preview, editing,
// scheduling and deleting one, the invitations download, suppressions and API tokens. The tests
// run in order on one server and one logged-in browser context.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ARTIFACTS, PASSWORD, apiSession, createCampaign, createWorkspace, launchBrowser, removeWorkspace,
  startServer, waitFor,
} from './harness.js';

const SAMPLE_LINK = 'https://t.me/+AbCdEfGhIjKlMnOp';
const ZONE = 'Asia/Kolkata';  // +05:30 all year

// Contacts whose cells a spreadsheet would run, or that need quoting: the download must carry
// them exactly as the CLI's export does.
const CONTACTS = ['telegram_user_id,username,first_name,last_name,phone,consent',
  '710000001,anna_s,Anna,"Schmidt, Jr.",,yes',
  '710000002,,"=HYPERLINK(""http://evil.example"")",+1,,yes',
  '710000003,bobby_b,Bob \u00e9,@home,,yes'].join('\n') + '\n';

// True when the server has no such route yet (the edit/delete API is built beside this page).
async function routeMissing(api, method, path, body) {
  const { status, body: data } = await api(method, path, body);
  return status === 405 || (status === 404 && /no such route/.test(data?.error?.message ?? ''));
}

describe('management pages', () => {
  let ws;
  let server;
  let browser;
  let context;
  let page;
  let api;
  const problems = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ws = createWorkspace();
    ws.cli('account', 'add', 'rehearsal');
    createCampaign(ws, 'demo');
    ws.cli('import', ws.file('demo.csv', CONTACTS), '--campaign', 'demo');
    server = await startServer(ws);
    api = await apiSession(server.url);
    browser = await launchBrowser();
    // A zone with a half-hour offset and no daylight saving time: the schedule's local times must
    // reach the server as that offset, whatever the zone of the machine running the test.
    context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true,
      timezoneId: ZONE });
    page = await context.newPage();
    page.on('dialog', (dialog) => { problems.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
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

  const nav = () => page.getByRole('navigation', { name: 'Main' });

  test('creates a campaign: live preview while typing, the server\u2019s refusals beside the form', async () => {
    const previews = [];
    const count = (request) => {
      if (request.url().endsWith('/api/v1/templates/preview')) previews.push(request.postDataJSON());
    };
    page.on('request', count);
    await nav().getByRole('link', { name: 'New campaign' }).click();
    await page.getByRole('heading', { name: 'New campaign' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('launch');
    await page.locator('#campaign-account').selectOption('rehearsal');
    await page.getByLabel('Chat (group or channel)').fill('not a chat id');

    // Typing asks the server after a pause, not at every key.
    const template = page.getByLabel(/^Message template/);
    await template.click();
    await page.keyboard.type('Hi {firstname}', { delay: 15 });
    const status = page.locator('#campaign-template-status');
    await waitFor(async () => /unknown placeholder \{firstname\}/.test(await status.textContent()),
      { message: 'the server\u2019s refusal of {firstname}' });
    assert.equal(await template.getAttribute('aria-invalid'), 'true');
    assert.ok(previews.length >= 1 && previews.length <= 3,
      `${previews.length} preview requests for ${'Hi {firstname}'.length} keystrokes`);
    assert.equal(previews.at(-1).template, 'Hi {firstname}');
    assert.equal(previews.at(-1).name, 'launch');

    await template.fill('Hi <b>{first_name}</b> from {campaign}: {link}');
    const preview = page.locator('[data-preview]');
    await waitFor(async () => (await preview.textContent()) === `Hi Anna from launch: ${SAMPLE_LINK}`,
      { message: 'the rendered preview' });
    assert.equal(await preview.locator('b').textContent(), 'Anna', 'Telegram\u2019s <b> shown bold');
    assert.equal(await template.getAttribute('aria-invalid'), null);
    assert.match(await status.textContent(), /of 4,096 characters/);
    page.off('request', count);

    // The server refuses the chat: the message is beside the form, and nothing typed is lost.
    await page.getByRole('button', { name: 'Create campaign' }).click();
    const refusal = page.locator('.form-error [role=alert]');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /chat/);
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'launch');
    assert.equal(await template.inputValue(), 'Hi <b>{first_name}</b> from {campaign}: {link}');
    assert.equal((await api('GET', '/campaigns/launch')).status, 404, 'nothing was created');
    await page.screenshot({ path: join(ARTIFACTS, 'manage-create-refused.png'), fullPage: true });

    await page.getByLabel('Chat (group or channel)').fill('-1009876543210');
    await page.locator('#campaign-link-mode').selectOption('join-request');
    // The page names the zone (ICU may call it by its older name, Asia/Calcutta).
    await page.getByText(/local time \(Asia\/(Kolkata|Calcutta)\)/).waitFor();
    await page.getByLabel('Starts at').fill('2030-03-01T08:00');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.getByRole('heading', { name: 'launch', level: 1 }).waitFor();
    await page.getByText(/Campaign launch created/).waitFor();
    const created = (await api('GET', '/campaigns/launch')).body;
    assert.equal(created.state, 'draft');
    assert.equal(created.chat, '-1009876543210');
    assert.equal(created.link_mode, 'join-request');
    assert.equal(created.template, 'Hi <b>{first_name}</b> from {campaign}: {link}');
    assert.equal(Date.parse(created.starts_at), Date.parse('2030-03-01T08:00:00+05:30'));
    assert.equal(created.ends_at, null);
  });

  test('downloads the invitations CSV: the bytes of tginvite export', async () => {
    await page.goto(`${server.url}/#/campaigns/demo`);
    await page.getByRole('heading', { name: 'demo', level: 1 }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download invitations (CSV)' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'demo-invitations.csv');
    const bytes = readFileSync(await download.path());
    const cli = ws.cli('export', 'demo', '--out', '-');
    assert.equal(bytes.toString('utf8'), cli);
    assert.match(cli, /'=HYPERLINK/, 'a formula is neutralised');
    assert.equal(cli.split('\r\n').length, 5, 'a header and three rows');
  });

  test('edits, schedules and deletes a campaign', async (t) => {
    if (await routeMissing(api, 'PATCH', '/campaigns/launch', {})) {
      t.skip('PATCH /api/v1/campaigns/{name} is not served yet (the edit API is built on another branch)');
      return;
    }
    await page.goto(`${server.url}/#/campaigns/launch`);
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await page.getByRole('heading', { name: 'Edit launch' }).waitFor();
    const template = page.getByLabel(/^Message template/);
    assert.equal(await template.inputValue(), 'Hi <b>{first_name}</b> from {campaign}: {link}');
    await template.fill('Hello {first_name}, see you at {campaign}: {link}');
    await waitFor(async () => (await page.locator('[data-preview]').textContent())
      === `Hello Anna, see you at launch: ${SAMPLE_LINK}`, { message: 'the edited preview' });
    await page.getByLabel('Starts at').fill('2030-01-15T09:30');
    await page.getByLabel('Ends at').fill('2030-02-01T18:00');
    await page.screenshot({ path: join(ARTIFACTS, 'manage-edit.png'), fullPage: true });
    const [patch] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'PATCH'),
      page.getByRole('button', { name: 'Save changes' }).click(),
    ]);
    // Only what changed, the times as ISO 8601 with the browser's offset.
    assert.deepEqual(patch.postDataJSON(), {
      template: 'Hello {first_name}, see you at {campaign}: {link}',
      starts_at: '2030-01-15T09:30:00+05:30',
      ends_at: '2030-02-01T18:00:00+05:30',
    });
    await page.getByText(/Campaign launch saved/).waitFor();
    const edited = (await api('GET', '/campaigns/launch')).body;
    assert.equal(edited.template, 'Hello {first_name}, see you at {campaign}: {link}');
    assert.equal(Date.parse(edited.starts_at), Date.parse('2030-01-15T09:30:00+05:30'));
    assert.equal(Date.parse(edited.ends_at), Date.parse('2030-02-01T18:00:00+05:30'));

    // A broken template is refused beside the form; nothing changes.
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await page.getByRole('heading', { name: 'Edit launch' }).waitFor();
    assert.equal(await page.getByLabel('Starts at').inputValue(), '2030-01-15T09:30');
    await page.getByLabel(/^Message template/).fill('<b>{link}');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.form-error [role=alert]').waitFor();
    assert.equal((await api('GET', '/campaigns/launch')).body.template,
      'Hello {first_name}, see you at {campaign}: {link}');

    // Emptying a time clears it (null).
    await page.goto(`${server.url}/#/campaigns/launch`);
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await page.getByRole('heading', { name: 'Edit launch' }).waitFor();
    assert.equal(await page.getByLabel(/^Message template/).inputValue(),
      'Hello {first_name}, see you at {campaign}: {link}', 'the refused template was not kept');
    await page.getByLabel('Ends at').fill('');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText(/Campaign launch saved/).waitFor();
    const cleared = (await api('GET', '/campaigns/launch')).body;
    assert.equal(cleared.ends_at, null);
    assert.equal(Date.parse(cleared.starts_at), Date.parse('2030-01-15T09:30:00+05:30'));

    // Delete: only once cancelled; a dialog says what goes and offers to take the attempts along.
    assert.equal((await api('POST', '/campaigns/launch/cancel')).status, 200);
    await page.goto(`${server.url}/#/campaigns/launch`);
    const remove = page.getByRole('button', { name: 'Delete…' });
    await remove.waitFor();
    await remove.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/cannot be undone/).waitFor();
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await api('GET', '/campaigns/launch')).status, 200, 'cancelled: nothing deleted');
    await remove.click();
    await dialog.getByLabel(/Also delete the attempts/).check();
    await dialog.getByRole('button', { name: 'Delete campaign' }).click();
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await page.getByText(/Campaign launch deleted: 0 invitations; \d+ attempts deleted\./).waitFor();
    assert.equal((await api('GET', '/campaigns/launch')).status, 404);
  });

  test('suppresses someone and lifts it again, by keyboard', async () => {
    await nav().getByRole('link', { name: 'Suppressions' }).click();
    await page.getByRole('heading', { name: 'Suppressions', level: 1 }).waitFor();
    const user = page.getByLabel(/^User/);

    // Bad input: the server's message, and the value stays for a correction.
    await user.fill('not a user!');
    await user.press('Enter');
    await page.getByRole('alert').filter({ hasText: /expected a user id, @username or \+phone/ }).waitFor();
    assert.equal(await user.inputValue(), 'not a user!');
    assert.equal(await user.getAttribute('aria-invalid'), 'true');

    await user.fill('@Spam_Hater');
    await page.getByLabel(/^Reason/).fill('asked by mail');
    await page.getByLabel(/^Reason/).press('Enter');
    const row = page.locator('tr[data-suppression="username:spam_hater"]');
    await row.waitFor();
    assert.equal(await row.locator('td').first().textContent(), '@spam_hater');
    assert.equal(await row.locator('td').nth(1).textContent(), 'asked by mail');
    assert.deepEqual((await api('GET', '/suppressions')).body.suppressions.map((s) => s.key),
      ['username:spam_hater']);

    // Remove… asks first; the dialog opens on Cancel, Tab reaches the action.
    await row.getByRole('button', { name: 'Remove @spam_hater' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/Lift the suppression of @spam_hater/).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Lift suppression');
    await page.keyboard.press('Enter');
    await row.waitFor({ state: 'detached' });
    await page.getByText('Nobody is suppressed.').waitFor();
    assert.deepEqual((await api('GET', '/suppressions')).body.suppressions, []);
  });

  test('creates an API token shown once, then revokes it', async () => {
    await nav().getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('ci-reader');
    await page.locator('#token-scope').selectOption('read');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secretField = page.locator('#new-token-secret');
    await secretField.waitFor();
    await page.getByText(/shown only this once and cannot be shown again/).waitFor();
    const secret = await secretField.inputValue();
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'new-token-secret');
    await page.screenshot({ path: join(ARTIFACTS, 'manage-token-once.png'), fullPage: true });

    const bearer = (path) => fetch(`${server.url}/api/v1${path}`, { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal((await bearer('/campaigns')).status, 200, 'the token works');
    assert.equal((await bearer('/tokens')).status, 403, 'a token cannot manage tokens');
    const row = page.locator('tr[data-token-row="ci-reader"]');
    await row.waitFor();
    assert.match(await row.textContent(), /read/);
    assert.match(await row.textContent(), /active/);

    // Done: the secret leaves the page; nothing can show it again.
    await page.getByRole('button', { name: 'Done' }).click();
    await secretField.waitFor({ state: 'detached' });
    await page.reload();
    await row.waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the secret is not in the page');
    assert.ok(!JSON.stringify((await api('GET', '/tokens')).body).includes(secret));

    await row.getByRole('button', { name: 'Revoke ci-reader' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/Scripts that use it stop working/).waitFor();
    await dialog.getByRole('button', { name: 'Revoke token' }).click();
    await waitFor(async () => /revoked/.test(await row.textContent()), { message: 'the row to say revoked' });
    assert.equal((await bearer('/campaigns')).status, 401, 'a revoked token is refused');
    assert.deepEqual(problems, [], 'no dialog of the browser\u2019s own and no script error');
  });
});
