// #/contacts — search, state filter and keyset pagination ("next page" continues after the last
// id seen, so deep pages cost the server no OFFSET scan).

import { api } from '../api.js';
import { contactHref } from '../router.js';
import { STATES, badge, formatNumber, h, notify, relativeTime, select, setRehearsal } from '../ui.js';

export async function render(root, route) {
  const { campaigns } = await api.campaigns();
  const campaign = select('Campaign', [['', 'All campaigns'], ...campaigns.map((c) => c.name)]);
  const state = select('State', [['', 'Any state'], ...STATES]);
  const search = h('input', { type: 'search', placeholder: 'name, @username, phone or id' });
  campaign.el.value = route.params.campaign ?? '';
  state.el.value = route.params.state ?? '';
  search.value = route.params.q ?? '';

  const body = h('tbody');
  const status = h('p', { class: 'muted', role: 'status' });
  const first = h('button', { type: 'button', class: 'secondary', onclick: () => reload(null) }, 'First page');
  const next = h('button', { type: 'button', onclick: () => reload(nextAfter) }, 'Next page');
  let nextAfter = null;
  let page = 1;

  const filters = h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); reload(null); } },
    campaign.label, state.label,
    h('label', {}, h('span', {}, 'Search'), search),
    h('button', { type: 'submit' }, 'Search'));
  campaign.el.addEventListener('change', () => reload(null));
  state.el.addEventListener('change', () => reload(null));

  root.replaceChildren(h('h1', {}, 'Contacts'), filters,
    h('div', { class: 'table-wrap tall' }, h('table', {},
      h('thead', {}, h('tr', {}, ['ID', 'Name', 'Username', 'Phone', 'Telegram ID', 'State', 'Attempts', 'Last error', 'Sent', 'Joined']
        .map((t) => h('th', { class: t === 'Attempts' ? 'num' : '' }, t)))),
      body)),
    h('div', { class: 'pager' }, status, first, next));

  const fullName = (c) => [c.first_name, c.last_name].filter(Boolean).join(' ');

  async function load(after) {
    next.disabled = first.disabled = true;
    try {
      const result = await api.contacts({
        campaign: campaign.el.value, state: state.el.value, q: search.value.trim(), after });
      page = after === null ? 1 : page + 1;
      nextAfter = result.next_after ?? null;
      const chosen = campaign.el.value;
      body.replaceChildren(...(result.contacts.length ? result.contacts.map((c) => h('tr', {},
        h('td', { class: 'num' }, h('a', { href: contactHref(c.id, chosen),
          'aria-label': `Contact ${c.id}: ${c.label ?? ''}` }, String(c.id))),
        h('td', {}, fullName(c)),
        h('td', {}, c.username ? `@${c.username}` : ''),
        h('td', {}, c.phone ?? ''),
        h('td', {}, c.telegram_user_id ? String(c.telegram_user_id) : ''),
        h('td', {}, c.state ? badge(c.state) : ''),
        h('td', { class: 'num' }, formatNumber(c.attempts ?? 0)),
        h('td', { class: 'wrap' }, c.last_error ?? ''),
        h('td', {}, relativeTime(c.sent_at)),
        h('td', {}, relativeTime(c.joined_at))))
        : [h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'No contacts match.'))]));
      status.textContent = `Page ${page} · ${formatNumber(result.contacts.length)} shown`;
      next.hidden = nextAfter === null;
      first.hidden = page === 1;
      const shown = campaigns.find((c) => c.name === chosen);
      setRehearsal(shown ? shown.rehearsal : campaigns.some((c) => c.rehearsal));
    } finally {
      next.disabled = first.disabled = false;
    }
  }
  const reload = (after) => load(after).then(() => notify(''), (error) => notify(error.message));
  await load(null);
  return {};
}
