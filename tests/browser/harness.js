// Shared fixtures for the browser tests: a real `tginvite up` on 127.0.0.1 over a fresh SQLite
// database with a REHEARSAL account (simulated Telegram: nothing leaves the machine), and Debian's
// chromium driven by playwright-core (which never downloads a browser).
//
// TGINVITE_BIN names the binary (CTest sets it); TGINVITE_ARTIFACTS is where screenshots go.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.TGINVITE_BIN ?? join(repo, 'build/tginvite');
export const ARTIFACTS = process.env.TGINVITE_ARTIFACTS ?? join(repo, 'build/artifacts');
export const PASSWORD = 'browser-test-password';

// Polls `condition` until it returns a truthy value (which is returned) or the deadline passes.
export async function waitFor(condition, { timeout = 20000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

// A temp dir with an initialised database; cli(...args) runs one tginvite command against it.
export function createWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), 'tginvite-browser-'));
  const db = `sqlite:${join(dir, 't.db')}`;
  // The secret key lives beside the database, not in the folder the tests run from.
  const env = {
    ...process.env,
    TGINVITE_ADMIN_PASSWORD: PASSWORD,
    TGINVITE_SECRET_KEY_FILE: join(dir, 'secret.key'),
  };
  const cli = (...args) => {
    const r = spawnSync(BIN, ['--db', db, ...args], { env, encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) {
      throw new Error(`tginvite ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
    }
    return r.stdout;
  };
  const file = (name, text) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  cli('init');
  return { dir, db, env, cli, file };
}

// Creates a rehearsal campaign paced for a test: an invitation every 0.3-0.6 s.
export function createCampaign(ws, name) {
  ws.cli('campaign', 'create', name, '--account', 'rehearsal', '--chat', '-1001234567890',
    '--template-file', join(repo, 'samples/invitation.html'));
  ws.cli('settings', 'set', 'pacing.batch_size', '0', '--campaign', name);
  ws.cli('settings', 'set', 'pacing.delay_min', '300ms', '--campaign', name);
  ws.cli('settings', 'set', 'pacing.delay_max', '600ms', '--campaign', name);
}

// Starts `tginvite up` on a free loopback port and waits for /healthz. stop() kills it.
export async function startServer(ws) {
  const logPath = join(ws.dir, 'server.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const log = openSync(logPath, 'a');
    const child = spawn(BIN, ['--db', ws.db, 'up', '--listen', `127.0.0.1:${port}`],
      { env: ws.env, stdio: ['ignore', log, log] });
    let exited = null;
    child.on('exit', (code, signal) => { exited = { code, signal }; });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(async () => {
        if (exited) throw new Error(`tginvite up exited early (${JSON.stringify(exited)})`);
        const response = await fetch(`${url}/healthz`);
        return response.ok;
      }, { timeout: 30000, message: `${url}/healthz` });
    } catch (error) {
      child.kill('SIGKILL');
      // Another process may have taken the port between freePort() and the bind: try once more.
      if (attempt < 2 && exited) continue;
      throw new Error(`${error.message}\n--- server log ---\n${readFileSync(logPath, 'utf8')}`);
    }
    const stop = async () => {
      if (exited) return;
      child.kill('SIGTERM');
      try {
        await waitFor(() => exited, { timeout: 10000, message: 'tginvite up to exit' });
      } catch {
        child.kill('SIGKILL');
      }
    };
    return { url, port, stop, log: () => readFileSync(logPath, 'utf8') };
  }
}

export function removeWorkspace(ws) {
  if (ws) rmSync(ws.dir, { recursive: true, force: true });
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60000,
  });
}

// An API client for assertions and for probing which routes the server has.
export async function apiSession(url) {
  const login = await fetch(`${url}/api/v1/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }),
  });
  if (!login.ok) throw new Error(`login: HTTP ${login.status}`);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const { csrf_token: csrf } = await login.json();
  return async (method, path, body) => {
    const response = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { Cookie: cookie, 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
}
