// #/campaigns/NAME — live summary, chart, error breakdown, recent attempts and the actions.

import { api } from '../api.js';
import { createChart } from '../chart.js';
import { badge, confirmAction, errorBox, formatNumber, h, notify, relativeTime, setRehearsal, setText }
  from '../ui.js';
import { createSummary } from './summary.js';

// Which actions a campaign in each state offers.
const ACTIONS = {
  start: (c) => c.state === 'draft',
  pause: (c) => c.state === 'running',
  resume: (c) => c.state === 'paused',
  cancel: (c) => c.state !== 'cancelled',
  'retry-failed': (c) => c.state !== 'cancelled' && (c.counts?.failed ?? 0) > 0,
  'resend-unknown': (c) => c.state !== 'cancelled' && (c.counts?.unknown ?? 0) > 0,
};

// Irreversible or consequential actions ask first and say what will happen.
const CONFIRMS = {
  cancel: (c) => ({
    title: `Cancel campaign ${c.name}?`,
    body: `${formatNumber((c.counts?.pending ?? 0) + (c.counts?.waiting ?? 0))} invitations not yet sent will be cancelled. A cancelled campaign cannot be started again.`,
    action: 'Cancel campaign',
  }),
  'retry-failed': (c) => ({
    title: 'Retry failed invitations?',
    body: `${formatNumber(c.counts?.failed ?? 0)} failed invitations go back to pending and are sent again at the campaign's pace.`,
    action: 'Retry failed',
  }),
  'resend-unknown': (c) => ({
    title: 'Resend invitations with an unknown outcome?',
    body: `${formatNumber(c.counts?.unknown ?? 0)} invitations may already have reached their contact: the send was interrupted before Telegram answered. Resending may message those people twice.`,
    action: 'Resend unknowns',
  }),
};

const LABELS = { start: 'Start', pause: 'Pause', resume: 'Resume', cancel: 'Cancel…',
  'retry-failed': 'Retry failed…', 'resend-unknown': 'Resend unknowns…' };

export async function render(root, route) {
  const name = route.name;
  let campaign = await api.campaign(name);

  const state = h('span');
  const tag = h('span', { class: 'tag-rehearsal', hidden: true }, 'REHEARSAL');
  const meta = h('p', { class: 'muted meta' });
  const summary = createSummary();
  const chartBox = h('div', { class: 'chart' });
  const chartError = h('div');
  const errorsBody = h('tbody');
  const attemptsBody = h('tbody');
  const buttons = Object.fromEntries(Object.keys(ACTIONS).map((action) => [action,
    h('button', { type: 'button', class: CONFIRMS[action] ? 'secondary' : '', 'data-action': action,
      onclick: () => run(action) }, LABELS[action])]));

  root.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Campaigns'), ' / '),
    h('header', { class: 'page-head' }, h('h1', {}, name), state, tag),
    meta,
    h('div', { class: 'actions', role: 'group', 'aria-label': 'Campaign actions' }, Object.values(buttons)),
    h('section', { class: 'card' }, summary.el),
    h('section', { class: 'card' }, h('h2', {}, 'Invitations per minute (last hour)'), chartError, chartBox),
    h('div', { class: 'split' },
      h('section', { class: 'card' }, h('h2', {}, 'Errors by reason'),
        h('div', { class: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, h('th', {}, 'Reason'), h('th', { class: 'num' }, 'Count'))),
          errorsBody))),
      h('section', { class: 'card' }, h('h2', {}, 'Contacts'),
        h('p', {}, h('a', { href: `#/contacts?campaign=${encodeURIComponent(name)}` },
          'Browse this campaign\u2019s contacts')),
        h('p', {}, h('a', { href: `#/settings?campaign=${encodeURIComponent(name)}` },
          'Settings for this campaign')))),
    h('section', { class: 'card' }, h('h2', {}, 'Recent attempts'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'attempts' },
        h('thead', {}, h('tr', {}, ['When', 'Contact', 'Request', 'Outcome', 'Latency', 'Error']
          .map((t) => h('th', { class: t === 'Latency' ? 'num' : '' }, t)))),
        attemptsBody))));

  let chart = null;
  let disposed = false;
  try {
    chart = await createChart(chartBox);
    if (disposed) chart.dispose();
  } catch (error) {
    chartError.replaceChildren(errorBox(error));
  }

  function show(c) {
    campaign = c;
    if (state.textContent !== c.state) state.replaceChildren(badge(c.state));
    tag.hidden = !c.rehearsal;
    setRehearsal(Boolean(c.rehearsal));
    const started = c.started_at ? ['started ', relativeTime(c.started_at)] : ['not started'];
    meta.replaceChildren(`chat ${c.chat} · ${c.link_mode ?? ''} links · account ${c.account} · `, ...started);
    for (const [action, allowed] of Object.entries(ACTIONS)) buttons[action].hidden = !allowed(c);
    summary.update(c);
  }

  function showErrors({ errors }) {
    errorsBody.replaceChildren(...(errors.length ? errors.map((e) => h('tr', {},
      h('td', {}, e.reason), h('td', { class: 'num' }, formatNumber(e.count))))
      : [h('tr', {}, h('td', { colspan: 2, class: 'muted' }, 'No errors.'))]));
  }

  function showAttempts({ attempts }) {
    attemptsBody.replaceChildren(...(attempts.length ? attempts.map((a) => h('tr', {},
      h('td', {}, relativeTime(a.started_at)),
      h('td', {}, a.contact ?? String(a.contact_id)),
      h('td', {}, a.request ?? ''),
      h('td', {}, a.outcome ? badge(a.outcome) : ''),
      h('td', { class: 'num' }, a.latency_ms === null || a.latency_ms === undefined ? '—' : `${formatNumber(a.latency_ms)} ms`),
      // A successful request has no error to show; a failed one shows its status and Telegram's text.
      h('td', { class: 'wrap' }, a.error ? [a.http_status ? `HTTP ${a.http_status} ` : '', a.error].join('') : '—')))
      : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No attempts yet.'))]));
  }

  // The summary must load; the other panels report their own failure and keep the page usable.
  async function refresh() {
    const [c, series, errors, attempts] = await Promise.allSettled([
      api.campaign(name), api.series(name, 60), api.errors(name), api.attempts(name, 50)]);
    if (disposed) return;
    if (c.status === 'rejected') throw c.reason;
    show(c.value);
    if (series.status === 'fulfilled') { chart?.update(series.value); chartError.replaceChildren(); }
    else chartError.replaceChildren(errorBox(series.reason));
    if (errors.status === 'fulfilled') showErrors(errors.value);
    else errorsBody.replaceChildren(h('tr', {}, h('td', { colspan: 2 }, errorBox(errors.reason))));
    if (attempts.status === 'fulfilled') showAttempts(attempts.value);
    else attemptsBody.replaceChildren(h('tr', {}, h('td', { colspan: 6 }, errorBox(attempts.reason))));
  }

  async function run(action) {
    const confirm = CONFIRMS[action];
    if (confirm && !(await confirmAction(confirm(campaign)))) return;
    const button = buttons[action];
    button.disabled = true;
    try {
      if (action === 'retry-failed' || action === 'resend-unknown') {
        const { count } = await api.campaignBulk(name, action);
        notify(`${formatNumber(count)} invitations queued again.`, 'ok');
      } else {
        await api.campaignAction(name, action);
        notify('');
      }
      await refresh();
    } catch (error) {
      notify(`${LABELS[action].replace('…', '')} failed: ${error.message}`);
    } finally {
      button.disabled = false;
      // Pause hides itself and shows Resume: keep the keyboard focus among the actions.
      if (button.hidden) Object.values(buttons).find((b) => !b.hidden)?.focus();
    }
  }

  show(campaign);
  await refresh();
  return { refresh, dispose() { disposed = true; chart?.dispose(); } };
}
