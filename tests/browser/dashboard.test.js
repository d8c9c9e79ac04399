// The dashboard in a real browser against a real `tginvite up` (REHEARSAL account: nothing is
// sent to Telegram). The tests run in order on one server and one logged-in browser context.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ARTIFACTS, PASSWORD, apiSession, createCampaign, createWorkspace, launchBrowser,
  removeWorkspace, startServer, waitFor,
} from './harness.js';

const XSS_NAME = '<img src=x onerror=alert(1)>';

// 80 contacts: enough that the campaign is still running while the test pauses and resumes it.
function contactsCsv() {
  const rows = ['telegram_user_id,username,first_name,last_name,phone,consent',
    `700000001,,${XSS_NAME},Tester,,yes`];
  for (let i = 2; i <= 80; i++) rows.push(`${700000000 + i},user_${i},First${i},Last${i},,yes`);
  return rows.join('\n') + '\n';
}

describe('dashboard', () => {
  let ws;
  let server;
  let browser;
  let context;
  let page;
  let api;
  const dialogs = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ws = createWorkspace();
    ws.cli('account', 'add', 'rehearsal');
    createCampaign(ws, 'demo');
    ws.cli('import', ws.file('demo.csv', contactsCsv()), '--campaign', 'demo');
    createCampaign(ws, 'uploads');
    server = await startServer(ws);
    api = await apiSession(server.url);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    page = await context.newPage();
    page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });
    page.on('pageerror', (error) => dialogs.push(`page error: ${error.message}`));
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

  const count = (state) => page.locator(`[data-count="${state}"]`).first().textContent()
    .then((text) => Number(text.replace(/\D/g, '')));

  test('serves the dashboard with a strict CSP and cache validators', async () => {
    const index = await fetch(`${server.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type'), /^text\/html/);
    assert.equal(index.headers.get('content-security-policy'),
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(index.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.match(await index.text(), /<script type="module" src="\/assets\/js\/main.js">/);

    const script = await fetch(`${server.url}/assets/js/main.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type'), /^text\/javascript/);
    const etag = script.headers.get('etag');
    assert.ok(etag, 'assets carry an ETag');
    const again = await fetch(`${server.url}/assets/js/main.js`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal((await fetch(`${server.url}/assets/vendor/uPlot.iife.min.js`)).status, 200);
    assert.equal((await fetch(`${server.url}/assets/nothing.js`)).status, 404);
    assert.equal((await fetch(`${server.url}/assets/../index.html`)).status, 404);
  });

  test('logs in, refusing a wrong password first', async () => {
    await page.goto(server.url);
    await page.getByLabel('Admin password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: /wrong password/ }).waitFor();
    await page.getByLabel('Admin password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await page.getByRole('link', { name: 'demo', exact: true }).waitFor();
    await page.getByText('REHEARSAL — nothing is sent to Telegram').waitFor();
    assert.equal(await count('pending'), 80);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });
  });

  test('a reload keeps the session (GET /session gives the CSRF token back)', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await page.getByRole('link', { name: 'Log out' }).or(page.getByRole('button', { name: 'Log out' })).waitFor();
  });

  test('imports a CSV with bad rows: report first, then commit', async () => {
    const csv = ['telegram_user_id,username,first_name,phone,consent',
      '800000001,good_one,Good,,yes',
      'not-a-number,,Bad,,yes',
      '800000002,good_two,Good,,yes',
      ',,,,yes',
      '800000003,good_three,Good,,yes'].join('\n') + '\n';
    await page.getByRole('link', { name: 'Import' }).click();
    await page.getByLabel('Campaign').selectOption('uploads');
    await page.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Check file' }).click();
    const report = page.locator('#import-report');
    await report.waitFor();
    assert.equal(await report.locator('[data-count="valid"]').textContent(), '3');
    assert.equal(await report.locator('[data-count="rejected"]').textContent(), '2');
    const lines = await report.locator('table.problems tbody tr td:first-child').allTextContents();
    assert.deepEqual(lines, ['3', '5']);
    // Nothing is written before the commit.
    assert.equal((await api('GET', '/campaigns/uploads')).body.total, 0);
    await page.getByRole('button', { name: /^Commit 3 valid rows$/ }).click();
    await page.getByText(/^Imported\./).waitFor();
    assert.equal((await api('GET', '/campaigns/uploads')).body.total, 3);
  });

  test('starts a rehearsal campaign and watches counts and the chart move; pauses and resumes', async () => {
    await page.goto(`${server.url}/#/campaigns/demo`);
    await page.getByRole('heading', { name: 'demo', level: 1 }).waitFor();
    await page.getByText('REHEARSAL — nothing is sent to Telegram').waitFor();
    await page.getByRole('button', { name: 'Start' }).click();
    await page.locator('.badge-running').first().waitFor();

    // The page polls: counts rise without a reload.
    const sent = async () => (await count('sent')) + (await count('joined'));
    const first = await waitFor(async () => (await sent()) >= 2 && sent(),
      { timeout: 30000, message: 'the sent count to rise' });
    await waitFor(async () => (await sent()) > first, { timeout: 30000, message: 'the sent count to rise again' });

    const series = await api('GET', '/campaigns/demo/series?minutes=60');
    if (series.status !== 404) {
      const canvas = page.locator('.chart canvas');
      await canvas.waitFor();
      const picture = () => canvas.evaluate((c) => c.toDataURL());
      const before = await picture();
      await waitFor(async () => (await picture()) !== before, { timeout: 30000, message: 'the chart to change' });
    }

    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-campaign.png'), fullPage: true });

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    await waitFor(async () => (await api('GET', '/campaigns/demo')).body.state === 'paused',
      { message: 'the campaign to be paused' });
    assert.ok(await page.locator('h1 + span .badge-paused').isVisible());
    // Keyboard focus stays on the actions: Resume can be pressed with Enter.
    const focused = await page.evaluate(() => document.activeElement?.textContent);
    assert.equal(focused, 'Resume');
    const pausedAt = await sent();
    await page.keyboard.press('Enter');
    await page.locator('h1 + span .badge-running').waitFor();
    await waitFor(async () => (await sent()) > pausedAt, { timeout: 30000, message: 'sending to continue after resume' });
  });

  test('the campaign page shows who changed it: the dashboard, then the CLI, newest first', async () => {
    const changes = page.getByRole('region', { name: 'Changes' });
    const rows = changes.locator('tbody tr[data-event]');
    // Start, pause and resume from the page above: three rows by the dashboard's session.
    await waitFor(async () => (await rows.count()) === 3, { message: 'three changes in the trail' });
    assert.deepEqual(await rows.locator('td:nth-child(2)').allTextContents(),
      ['dashboard:admin', 'dashboard:admin', 'dashboard:admin']);
    assert.match(await rows.first().locator('td:nth-child(3)').textContent(), /paused\s*→\s*running/);

    // A change made at the CLI shows up without a reload, named after the OS user.
    ws.cli('campaign', 'pause', 'demo');
    await waitFor(async () => (await rows.count()) === 4, { message: 'the CLI\u2019s pause in the trail' });
    assert.match(await rows.first().locator('td:nth-child(2)').textContent(), /^cli:\S+$/);
    assert.match(await rows.first().locator('td:nth-child(3)').textContent(), /running\s*→\s*paused/);
    const trail = await api('GET', '/campaigns/demo/events');
    assert.equal(trail.status, 200);
    assert.equal(trail.body.events[0].action, 'pause');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-campaign-changes.png'), fullPage: true });
    ws.cli('campaign', 'resume', 'demo');
    await page.locator('h1 + span .badge-running').waitFor();
  });

  test('resend unknowns and cancel ask first in a dialog of their own', async () => {
    await page.getByRole('button', { name: 'Cancel…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/cannot be started again/).waitFor();
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await api('GET', '/campaigns/demo')).body.state, 'running');
  });

  test('a contact named like markup renders as text and runs nothing', async (t) => {
    // The contact's label shows up among the recent attempts once it has been sent.
    if ((await api('GET', '/campaigns/demo/attempts?limit=50')).status !== 404) {
      await page.goto(`${server.url}/#/campaigns/demo`);
      await waitFor(async () => (await page.locator('table.attempts td', { hasText: XSS_NAME }).count()) > 0,
        { timeout: 60000, message: 'the contact to appear among the attempts' });
    } else {
      t.diagnostic('GET /api/v1/campaigns/{name}/attempts is not served yet');
    }
    if ((await api('GET', '/contacts?q=Tester')).status !== 404) {
      await page.goto(`${server.url}/#/contacts`);
      await page.getByLabel('Search').fill('Tester');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('cell', { name: `${XSS_NAME} Tester`, exact: true }).waitFor();
    } else {
      t.diagnostic('GET /api/v1/contacts is not served yet');
    }
    assert.equal(await page.locator('main img').count(), 0, 'no <img> element was created from data');
    assert.deepEqual(dialogs, [], 'no dialog opened and no script error');
  });

  test('a malformed hash shows Not found and the dashboard keeps working', async () => {
    const errors = dialogs.length;
    await page.goto(`${server.url}/#/campaigns/%E0`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await page.goto(`${server.url}/#/campaigns/%E0%A4%A`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await page.getByRole('link', { name: 'Back to the overview' }).click();
    await page.locator('[data-count="sent"]').first().waitFor();
    assert.deepEqual(dialogs.slice(errors), [], 'no script error');
  });

  for (const viewport of [{ width: 390, height: 844 }, { width: 1366, height: 768 }]) {
    test(`no horizontal overflow at ${viewport.width}×${viewport.height}`, async () => {
      await page.setViewportSize(viewport);
      for (const hash of ['#/', '#/campaigns/demo']) {
        await page.goto(`${server.url}/${hash}`);
        await page.locator('[data-count="sent"]').first().waitFor();
        const overflow = await page.evaluate(() =>
          document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${hash} overflows by ${overflow} px`);
      }
      if (viewport.width === 390) {
        await page.goto(`${server.url}/#/`);
        await page.locator('[data-count="sent"]').first().waitFor();
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview-phone.png'), fullPage: true });
      }
    });
  }
});
