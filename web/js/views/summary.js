// The block that describes one campaign — progress, counts by state, rate, ETA, account health —
// shared by the overview's cards and the campaign page. Built once, updated in place.

import { STATES, badge, formatDuration, formatNumber, h, relativeTime, setText } from '../ui.js';

// Work that is not finished: waiting rows come back, sending rows resolve.
const OPEN_STATES = ['pending', 'sending', 'waiting'];

export function facts(summary) {
  const counts = summary.counts ?? {};
  const total = summary.total ?? STATES.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  const open = OPEN_STATES.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  // Not done either, but not the engine's to do: these wait for their contact to press Start, so
  // they count toward neither the progress nor the ETA.
  const awaiting = counts.awaiting_start ?? 0;
  const rate = summary.rate_per_minute ?? summary.sent_last_minute ?? 0;
  let eta = summary.eta_seconds;
  if (eta === undefined) eta = rate > 0 && open > 0 ? (open / rate) * 60 : null;
  if (summary.state !== 'running' || open === 0) eta = null;
  return { total, open, awaiting, done: total - open - awaiting, rate, eta };
}

export function createSummary() {
  const progress = h('progress', { max: 1, value: 0, 'aria-label': 'Progress' });
  const progressText = h('span', { class: 'muted' });
  const countCells = Object.fromEntries(STATES.map((s) => [s, h('dd', { class: 'num', 'data-count': s }, '0')]));
  const rate = h('dd', { class: 'num' });
  const eta = h('dd', { class: 'num' });
  const account = h('dd');
  const health = h('dd');
  const note = h('p', { class: 'note', hidden: true });
  const el = h('div', { class: 'summary' },
    h('div', { class: 'progress' }, progress, progressText),
    h('dl', { class: 'counts' }, STATES.map((s) => h('div', {}, h('dt', {}, badge(s)), countCells[s]))),
    h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, 'Rate'), rate),
      h('div', {}, h('dt', {}, 'ETA'), eta),
      h('div', {}, h('dt', {}, 'Account'), account),
      h('div', {}, h('dt', {}, 'Health'), health)),
    note);

  function update(summary) {
    const f = facts(summary);
    progress.max = Math.max(1, f.total);
    progress.value = f.done;
    const percent = f.total ? Math.floor((f.done / f.total) * 100) : 0;
    const waiting = f.awaiting ? ` · ${formatNumber(f.awaiting)} awaiting their start` : '';
    setText(progressText, `${formatNumber(f.done)} of ${formatNumber(f.total)} done (${percent} %)${waiting}`);
    for (const s of STATES) setText(countCells[s], formatNumber(summary.counts?.[s] ?? 0));
    setText(rate, `${formatNumber(Math.round(f.rate * 10) / 10)} / min`);
    setText(eta, f.eta === null ? '—' : formatDuration(f.eta));
    setText(account, summary.account ?? '—');
    const flooded = summary.flood_until && summary.flood_until > Date.now();
    health.replaceChildren(...[
      flooded ? h('span', { class: 'badge badge-flood' }, 'flood pause')
        : summary.account_health ? badge(summary.account_health)
          : h('span', { class: 'muted' }, 'not reported'),
      flooded ? h('span', {}, ' until ', relativeTime(summary.flood_until)) : null,
      summary.account_health_reason ? h('span', { class: 'muted' }, ` ${summary.account_health_reason}`) : null,
    ].filter(Boolean));
    const reason = summary.paused_reason;
    note.hidden = !reason;
    setText(note, reason ? `Paused: ${reason}` : '');
  }
  return { el, update };
}
