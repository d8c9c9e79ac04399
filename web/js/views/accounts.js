// #/accounts — the sending accounts and a form to add one. A bot token goes to the server once
// and is never shown again (the API does not return it).

import { api } from '../api.js';
import { badge, errorBox, h, relativeTime, select, setRehearsal } from '../ui.js';

export async function render(root) {
  const body = h('tbody');
  const name = h('input', { id: 'account-name', required: true, autocomplete: 'off', pattern: '[A-Za-z0-9_.\\-]+' });
  const kind = select('Kind', [['bot', 'Bot (Bot API)'], ['rehearsal', 'Rehearsal (simulated, sends nothing)']],
    { id: 'account-kind' });
  const token = h('input', { id: 'account-token', type: 'password', autocomplete: 'off', spellcheck: false });
  const apiBase = h('input', { id: 'account-api-base', type: 'url', placeholder: 'https://api.telegram.org' });
  const botOnly = h('div', { class: 'bot-only' },
    h('label', {}, h('span', {}, 'Bot token'), token),
    h('label', {}, h('span', {}, 'Bot API server (optional)'), apiBase));
  const message = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Add account');
  kind.el.addEventListener('change', () => {
    botOnly.hidden = kind.el.value !== 'bot';
    token.required = kind.el.value === 'bot';
  });
  token.required = true;

  const form = h('form', { class: 'card form', onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    message.replaceChildren();
    const account = { name: name.value.trim(), kind: kind.el.value };
    if (account.kind === 'bot') {
      account.token = token.value;
      if (apiBase.value.trim()) account.api_base = apiBase.value.trim();
    }
    try {
      await api.addAccount(account);
      form.reset();
      botOnly.hidden = false;
      message.replaceChildren(h('p', { class: 'ok', role: 'status' }, `Account ${account.name} added.`));
      await refresh();
    } catch (error) {
      message.replaceChildren(errorBox(error));
    } finally {
      token.value = '';  // never keep a secret in the page longer than the request
      submit.disabled = false;
    }
  } },
  h('h2', {}, 'Add an account'),
  h('label', {}, h('span', {}, 'Name'), name),
  kind.label, botOnly, message, submit);

  root.replaceChildren(h('h1', {}, 'Accounts'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Bot API server', 'Health', 'Flood pause', 'Added'].map((t) => h('th', {}, t)))),
      body)),
    form);

  async function refresh() {
    const { accounts } = await api.accounts();
    body.replaceChildren(...(accounts.length ? accounts.map((a) => h('tr', {},
      h('td', {}, a.name),
      h('td', {}, a.kind === 'rehearsal' ? h('span', { class: 'tag-rehearsal' }, 'REHEARSAL') : a.kind),
      h('td', {}, a.api_base ?? ''),
      h('td', {}, a.health ? badge(a.health) : '', a.health_reason ? ` ${a.health_reason}` : ''),
      h('td', {}, a.flood_until && a.flood_until > Date.now() ? relativeTime(a.flood_until) : '—'),
      h('td', {}, relativeTime(a.created_at))))
      : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No accounts yet.'))]));
    setRehearsal(accounts.some((a) => a.kind === 'rehearsal'));
  }
  try {
    await refresh();
  } catch (error) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 6 }, errorBox(error))));
  }
  return { refresh };
}
