// Boot, routing and the refresh loop. Each view module exports
//   render(root, route) -> Promise<{refresh?: () => Promise, dispose?: () => void}>
// and builds its DOM once; refresh() updates it in place every POLL_MS while the tab is visible,
// so keyboard focus and scroll positions survive live updates.

import { api, setUnauthorizedHandler } from './api.js';
import { parseRoute } from './router.js';
import { errorBox, h, notify, setRehearsal, takeFlash } from './ui.js';
import * as login from './views/login.js';
import * as overview from './views/overview.js';
import * as campaign from './views/campaign.js';
import * as contacts from './views/contacts.js';
import * as contact from './views/contact.js';
import * as importer from './views/import.js';
import * as accounts from './views/accounts.js';
import * as settings from './views/settings.js';
import * as newCampaign from './views/campaign_new.js';
import * as editCampaign from './views/campaign_edit.js';
import * as suppressions from './views/suppressions.js';
import * as tokens from './views/tokens.js';

const POLL_MS = 2000;
const views = { overview, campaign, contacts, contact, import: importer, accounts, settings,
  'new-campaign': newCampaign, 'campaign-edit': editCampaign, suppressions, tokens };

const root = document.getElementById('view');
const nav = document.getElementById('nav');
let current = null;     // the mounted view's handle
let generation = 0;     // bumps on every navigation; stale async renders check it
let loggedIn = false;
let timer = 0;

async function show() {
  const mine = ++generation;
  current?.dispose?.();
  current = null;
  const flashed = takeFlash();
  notify(flashed?.message ?? '', flashed?.kind);
  setRehearsal(false);
  const route = parseRoute();
  nav.hidden = !loggedIn;
  if (!loggedIn) {
    await login.render(root, { onLogin: () => { loggedIn = true; show(); } });
    return;
  }
  for (const link of nav.querySelectorAll('a')) {
    const target = parseRoute(link.getAttribute('href')).view;
    const active = target === route.view
      || (target === 'overview' && (route.view === 'campaign' || route.view === 'campaign-edit'))
      || (target === 'contacts' && route.view === 'contact');
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const view = views[route.view];
  if (!view) {
    root.replaceChildren(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the overview')));
    return;
  }
  root.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    const handle = await view.render(root, route);
    if (mine !== generation) handle?.dispose?.();
    else current = handle;
  } catch (error) {
    if (mine === generation && error.status !== 401) root.replaceChildren(errorBox(error));
  }
}

// Refreshes the mounted view; a failure is shown once and the next tick tries again.
async function tick() {
  clearTimeout(timer);
  if (!document.hidden && current?.refresh) {
    const mine = generation;
    try {
      await current.refresh();
      if (mine === generation && document.querySelector('#notice .error[data-poll]')) notify('');
    } catch (error) {
      if (mine === generation && error.status !== 401) {
        notify(`Live update failed: ${error.message}`);
        document.querySelector('#notice .error')?.setAttribute('data-poll', '');
      }
    }
  }
  timer = setTimeout(tick, POLL_MS);
}

setUnauthorizedHandler(() => {
  if (!loggedIn) return;
  loggedIn = false;
  show();
});

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await api.logout();
  } catch {
    // Logged out either way: the server forgets the session or it had already expired.
  }
  loggedIn = false;
  location.hash = '#/';
  show();
});

window.addEventListener('hashchange', () => {
  show();
  root.focus({ preventScroll: true });
});
// Polling stops while the tab is hidden and catches up at once when it comes back.
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) tick();
});

async function boot() {
  try {
    await api.restoreSession();
    loggedIn = true;
  } catch (error) {
    // 401: not logged in. (A server without GET /session also means: log in again.)
    if (error.status !== 401 && error.status !== 404) notify(error.message);
  }
  await show();
  timer = setTimeout(tick, POLL_MS);
}

boot();
