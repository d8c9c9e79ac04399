// #/campaigns/NAME — live summary, chart, error breakdown, recent attempts, the actions and who
// took them (the campaign's audit trail); links to edit it, delete it and download its
// invitations (the CSV of `tginvite export`).

import { api } from '../api.js';
import { createChart } from '../chart.js';
import { campaignEditHref } from '../router.js';
import { badge, confirmAction, errorBox, flash, formatNumber, h, missingRoute, notify, relativeTime,
  setRehearsal, setText } from '../ui.js';
import { createSummary } from './summary.js';

// Which actions a campaign offers: its state changes are those the API lists (core's table).
const allows = (c, action) => (c.actions ?? []).includes(action);
const ACTIONS = {
  start: (c) => allows(c, 'start'),
  pause: (c) => allows(c, 'pause'),
  resume: (c) => allows(c, 'resume'),
  cancel: (c) => allows(c, 'cancel'),
  'retry-failed': (c) => c.state !== 'cancelled' && (c.counts?.failed ?? 0) > 0,
  'resend-unknown': (c) => c.state !== 'cancelled' && (c.counts?.unknown ?? 0) > 0,
};

// Irreversible or consequential actions ask first and say what will happen.
const CONFIRMS = {
  cancel: (c) => ({
    title: `Cancel campaign ${c.name}?`,
    body: `${formatNumber((c.counts?.pending ?? 0) + (c.counts?.waiting ?? 0) + (c.counts?.awaiting_start ?? 0))} invitations not yet sent (awaiting a start included) will be cancelled, and a start link pressed later sends nothing. A cancelled campaign cannot be started again.`,
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

const FUNNEL = [['links_exported', 'Start links exported'], ['links_started', 'Started'],
  ['sent', 'Sent'], ['joined', 'Joined']];

// The start links' funnel (handed out → pressed Start → invitation sent → joined) and the CSV of
// links for a mail merge. Shown for campaigns that reach contacts through start links, or that
// handed some out. Built once, updated in place.
function createStartLinks(name) {
  const steps = Object.fromEntries(FUNNEL.map(([key]) =>
    [key, h('strong', { class: 'num', 'data-funnel': key }, '0')]));
  const opened = h('p', { class: 'muted', role: 'status' });
  const downloads = h('p', {},
    h('a', { href: api.startLinksCsvUrl(name), download: '' }, 'Download start links (CSV)'),
    ' of the contacts still awaiting their start, or ',
    h('a', { href: api.startLinksCsvUrl(name, true), download: '' }, 'of every contact'), '.');
  const missing = h('p', { class: 'warning', hidden: true });
  const el = h('section', { class: 'card', 'aria-labelledby': 'start-links-title', hidden: true },
    h('h2', { id: 'start-links-title' }, 'Start links'),
    h('ol', { class: 'funnel', 'aria-label': 'Start link funnel' },
      FUNNEL.map(([key, label]) => h('li', {}, h('span', { class: 'muted' }, label), steps[key]))),
    opened, downloads, missing);

  function update(c) {
    const funnel = c.funnel ?? {};
    const exported = funnel.links_exported ?? 0;
    const started = funnel.links_started ?? 0;
    el.hidden = (c.reach ?? 'direct') === 'direct' && exported === 0;
    for (const [key] of FUNNEL) setText(steps[key], formatNumber(funnel[key] ?? 0));
    const share = exported > 0 ? ` of ${formatNumber(exported)} exported (${Math.floor((started / exported) * 100)} %)` : '';
    setText(opened, `${formatNumber(started)} start links opened${share}`);
    const known = Boolean(c.bot_username);
    downloads.hidden = !known;
    missing.hidden = known;
    if (!known && missing.dataset.account !== c.account) {
      missing.dataset.account = c.account;
      missing.replaceChildren('getMe has not told the bot\u2019s username yet, so there are no start links: run ',
        h('code', {}, `tginvite account check ${c.account}`), '.');
    }
  }
  return { el, update };
}

// Deleting asks first, says what goes, and offers to take the attempts (the audit trail of every
// request) along. Resolves {purge} when confirmed, null when not.
async function confirmDelete(c) {
  const purge = h('input', { type: 'checkbox', id: 'delete-purge' });
  const confirmed = await confirmAction({
    title: `Delete campaign ${c.name}?`,
    body: `The campaign and its ${formatNumber(c.total ?? 0)} invitations are deleted; the contacts stay. This cannot be undone.`,
    extra: h('p', {}, h('label', { class: 'check' }, purge,
      ' Also delete the attempts (the record of every request made for this campaign)')),
    action: 'Delete campaign',
  });
  return confirmed ? { purge: purge.checked } : null;
}

// "starts in 2 h · ends in 3 d": the campaign's schedule, when it has one.
function scheduleText(c) {
  const parts = [];
  if (c.starts_at) parts.push(['starts ', relativeTime(new Date(c.starts_at).getTime())]);
  if (c.ends_at) parts.push(['ends ', relativeTime(new Date(c.ends_at).getTime())]);
  return parts.flatMap((p, i) => (i ? [' · ', ...p] : p));
}

export async function render(root, route) {
  const name = route.name;
  let campaign = await api.campaign(name);

  const state = h('span');
  const tag = h('span', { class: 'tag-rehearsal', hidden: true }, 'REHEARSAL');
  const meta = h('p', { class: 'muted meta' });
  const summary = createSummary();
  const startLinks = createStartLinks(name);
  const chartBox = h('div', { class: 'chart' });
  const chartError = h('div');
  const errorsBody = h('tbody');
  const attemptsBody = h('tbody');
  const eventsBody = h('tbody');
  const buttons = Object.fromEntries(Object.keys(ACTIONS).map((action) => [action,
    h('button', { type: 'button', class: CONFIRMS[action] ? 'secondary' : '', 'data-action': action,
      onclick: () => run(action) }, LABELS[action])]));
  const edit = h('a', { class: 'button-link secondary', href: campaignEditHref(name), hidden: true }, 'Edit');
  const remove = h('button', { type: 'button', class: 'secondary', 'data-action': 'delete', hidden: true,
    onclick: () => deleteCampaign() }, 'Delete…');
  const download = h('a', { class: 'button-link secondary', href: api.exportCsvUrl(name), download: '',
    'data-action': 'export' }, 'Download invitations (CSV)');
  const schedule = h('p', { class: 'muted meta', hidden: true });

  root.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Campaigns'), ' / '),
    h('header', { class: 'page-head' }, h('h1', {}, name), state, tag),
    meta, schedule,
    h('div', { class: 'actions', role: 'group', 'aria-label': 'Campaign actions' }, Object.values(buttons),
      edit, remove, download),
    h('section', { class: 'card' }, summary.el),
    startLinks.el,
    h('section', { class: 'card' }, h('h2', {}, 'Invitations per minute (last hour)'), chartError, chartBox),
    h('div', { class: 'split' },
      h('section', { class: 'card' }, h('h2', {}, 'Errors by reason'),
        h('div', { class: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, h('th', {}, 'Reason'), h('th', { class: 'num' }, 'Count'))),
          errorsBody))),
      h('section', { class: 'card' }, h('h2', {}, 'Contacts'),
        h('p', {}, h('a', { href: `#/contacts?campaign=${encodeURIComponent(name)}` },
          'Browse this campaign\u2019s contacts')),
        h('p', {}, h('a', { href: `#/contacts?campaign=${encodeURIComponent(name)}&state=awaiting_start` },
          'Contacts awaiting their start')),
        h('p', {}, h('a', { href: `#/settings?campaign=${encodeURIComponent(name)}` },
          'Settings for this campaign')))),
    h('section', { class: 'card' }, h('h2', {}, 'Recent attempts'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'attempts' },
        h('thead', {}, h('tr', {}, ['When', 'Contact', 'Request', 'Outcome', 'Latency', 'Error']
          .map((t) => h('th', { class: t === 'Latency' ? 'num' : '' }, t)))),
        attemptsBody))),
    h('section', { class: 'card', 'aria-labelledby': 'changes-title' },
      h('h2', { id: 'changes-title' }, 'Changes'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'events' },
        h('thead', {}, h('tr', {}, ['When', 'By', 'Change', 'Detail'].map((t) => h('th', {}, t)))),
        eventsBody))));

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
    const method = c.method && c.method !== 'message' ? ` · method ${c.method}` : '';
    meta.replaceChildren(`chat ${c.chat} · ${c.link_mode ?? ''} links · reach ${c.reach ?? 'direct'}${method} · account ${c.account} · `, ...started);
    for (const [action, allowed] of Object.entries(ACTIONS)) buttons[action].hidden = !allowed(c);
    edit.hidden = !allows(c, 'edit');
    remove.hidden = !allows(c, 'delete');
    const when = scheduleText(c);
    schedule.hidden = when.length === 0;
    schedule.replaceChildren(...when);
    summary.update(c);
    startLinks.update(c);
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

  // Who changed the campaign's state, newest first: text only (an actor's name is not ours).
  function showEvents({ events }) {
    eventsBody.replaceChildren(...(events.length ? events.map((e) => h('tr', { 'data-event': e.id },
      h('td', { title: new Date(e.at).toISOString() }, relativeTime(e.at)),
      h('td', {}, e.actor),
      h('td', {}, badge(e.from), ' \u2192 ', badge(e.to)),
      h('td', { class: 'wrap' }, e.detail || '—')))
      : [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No changes yet.'))]));
  }

  // The summary must load; the other panels report their own failure and keep the page usable.
  async function refresh() {
    const [c, series, errors, attempts, events] = await Promise.allSettled([
      api.campaign(name), api.series(name, 60), api.errors(name), api.attempts(name, 50),
      api.events(name, 20)]);
    if (disposed) return;
    if (c.status === 'rejected') throw c.reason;
    show(c.value);
    if (series.status === 'fulfilled') { chart?.update(series.value); chartError.replaceChildren(); }
    else chartError.replaceChildren(errorBox(series.reason));
    if (errors.status === 'fulfilled') showErrors(errors.value);
    else errorsBody.replaceChildren(h('tr', {}, h('td', { colspan: 2 }, errorBox(errors.reason))));
    if (attempts.status === 'fulfilled') showAttempts(attempts.value);
    else attemptsBody.replaceChildren(h('tr', {}, h('td', { colspan: 6 }, errorBox(attempts.reason))));
    if (events.status === 'fulfilled') showEvents(events.value);
    else eventsBody.replaceChildren(h('tr', {}, h('td', { colspan: 4 }, errorBox(events.reason))));
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

  async function deleteCampaign() {
    const choice = await confirmDelete(campaign);
    if (!choice) return;
    remove.disabled = true;
    try {
      const gone = await api.deleteCampaign(name, choice.purge);
      const attempts = choice.purge
        ? `${formatNumber(gone.attempts ?? 0)} attempts deleted`
        : `${formatNumber(gone.attempts_kept ?? 0)} attempts kept in the contacts’ history`;
      flash(`Campaign ${name} deleted: ${formatNumber(gone.invitations ?? 0)} invitations; ${attempts}.`);
      location.hash = '#/';
    } catch (error) {
      notify(missingRoute(error)
        ? `This server cannot delete campaigns yet (DELETE /api/v1/campaigns/{name} is missing): nothing was deleted.`
        : `Delete failed: ${error.message}`);
      remove.disabled = false;
      remove.focus();
    }
  }

  show(campaign);
  await refresh();
  return { refresh, dispose() { disposed = true; chart?.dispose(); } };
}
