// Start links in a real browser against a real `tginvite up` (REHEARSAL account: nothing is sent
// to Telegram): a contact known only by username gets a start link on their page, with a QR code
// that a QR reader (jsQR, on a screenshot of the code as the browser drew it) reads back as
// exactly that link, and a copy button; the campaign page shows the funnel and the CSV download.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import {
  ARTIFACTS, PASSWORD, apiSession, createWorkspace, launchBrowser, removeWorkspace, startServer,
  waitFor,
} from './harness.js';

const BOT = 'tginvite_demo_bot';
const LINK = /^https:\/\/t\.me\/[A-Za-z0-9_]{5,32}\?start=[0-9a-f]{32}$/;

// The bot's @username is what getMe tells (`tginvite account check`, Store::SetBotUsername); a
// rehearsal account has no bot to ask, so the test writes it as that call would, before the server
// starts.
function setBotUsername(ws, account, username) {
  const r = spawnSync('sqlite3', [ws.db.replace(/^sqlite:/, ''),
    `UPDATE accounts SET bot_username = '${username}' WHERE name = '${account}'`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3 exited ${r.status}: ${r.stderr}`);
}

// The QR code in `png` (a screenshot), decoded; null when none is found.
function decodeQr(png) {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data ?? null;
}

describe('start links', () => {
  let ws;
  let server;
  let browser;
  let context;
  let page;
  let api;
  let contact;  // the username-only contact, as GET /contacts?campaign=links shows it
  const errors = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ws = createWorkspace();
    ws.cli('account', 'add', 'rehearsal');
    setBotUsername(ws, 'rehearsal', BOT);
    server = await startServer(ws);
    api = await apiSession(server.url);
    const created = await api('POST', '/campaigns', {
      name: 'links', account: 'rehearsal', chat: '-1001234567890',
      template: 'Hello {first_name}: {link}', reach: 'start-link',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    ws.cli('import', ws.file('links.csv',
      'telegram_user_id,username,first_name,last_name,phone,consent\n,dora_explorer,,,,yes\n'),
    '--campaign', 'links');
    const { body } = await api('GET', '/contacts?campaign=links');
    assert.equal(body.contacts.length, 1);
    [contact] = body.contacts;
    assert.match(contact.start_link, LINK);
    assert.equal(contact.state, 'awaiting_start');

    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    page = await context.newPage();
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => { errors.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
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

  test('the contact page shows the start link and a QR code that reads as exactly that link', async () => {
    await page.goto(server.url);
    await page.getByLabel('Admin password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();

    // From the campaign's contacts to the contact's page.
    await page.goto(`${server.url}/#/contacts?campaign=links`);
    await page.getByRole('link', { name: new RegExp(`^Contact ${contact.id}:`) }).click();
    await page.getByRole('heading', { name: '@dora_explorer', level: 1 }).waitFor();
    assert.equal(await page.locator('.page-head .badge-awaiting_start').textContent(), 'awaiting start');
    assert.equal(await page.locator('#start-link').inputValue(), contact.start_link);

    const qr = page.locator('img.qr');
    await waitFor(() => qr.evaluate((img) => img.complete && img.naturalWidth > 0),
      { message: 'the QR code image to load' });
    const png = await qr.screenshot({ path: join(ARTIFACTS, 'start-link-qr.png') });
    assert.equal(decodeQr(png), contact.start_link, 'the QR code reads as the contact\u2019s start link');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-contact.png'), fullPage: true });

    await page.getByRole('button', { name: 'Copy link' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), contact.start_link);
    assert.deepEqual(errors, []);
  });

  test('without the clipboard API (not a secure context) the copy button copies the selected field', async () => {
    const plain = await context.newPage();
    await plain.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined });
      window.copied = null;
      document.addEventListener('copy', (event) => {
        const field = event.target;
        window.copied = field.value?.slice(field.selectionStart, field.selectionEnd) ?? null;
      });
    });
    await plain.goto(`${server.url}/#/campaigns/links/contacts/${contact.id}`);
    await plain.getByRole('heading', { name: '@dora_explorer', level: 1 }).waitFor();
    await plain.getByRole('button', { name: 'Copy link' }).click();
    await plain.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
    assert.equal(await plain.evaluate(() => window.copied), contact.start_link);
    await plain.close();
  });

  test('the campaign page shows the funnel and downloads the start links as CSV', async () => {
    await page.goto(`${server.url}/#/campaigns/links`);
    await page.getByRole('heading', { name: 'Start links' }).waitFor();
    const step = (key) => page.locator(`[data-funnel="${key}"]`).textContent();
    assert.equal(await page.locator('[data-count="awaiting_start"]').first().textContent(), '1');
    assert.equal(await step('links_exported'), '0');
    await page.getByText('0 start links opened').waitFor();

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download start links (CSV)' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'links-start-links.csv');
    const lines = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
    assert.deepEqual(lines, [
      'telegram_user_id,username,phone,first_name,last_name,state,start_link',
      `,dora_explorer,,,,awaiting_start,${contact.start_link}`,
    ]);
    // The page polls: the link now counts as handed out.
    await waitFor(async () => (await step('links_exported')) === '1',
      { message: 'the funnel to count the exported link' });
    await page.getByText('0 start links opened of 1 exported (0 %)').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-start-links.png'), fullPage: true });
    assert.deepEqual(errors, []);
  });

  test('the contact and campaign pages fit a phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, ready] of [[`#/campaigns/links/contacts/${contact.id}`, 'img.qr'],
      ['#/campaigns/links', '[data-funnel="links_exported"]']]) {
      await page.goto(`${server.url}/${hash}`);
      await page.locator(ready).waitFor();
      const overflow = await page.evaluate(() =>
        document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${hash} overflows by ${overflow} px`);
    }
    await page.goto(`${server.url}/#/campaigns/links/contacts/${contact.id}`);
    await page.locator('img.qr').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-contact-phone.png'), fullPage: true });
  });
});
