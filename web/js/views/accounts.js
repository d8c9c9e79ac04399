// #/accounts — the sending accounts and a form to add one. A bot token goes to the server once
// and is never shown again (the API does not return it). A user account logs in here too: the
// login code and the 2-step password go to the server once each and are cleared from the page.

import { api } from '../api.js';
import { badge, errorBox, h, relativeTime, select, setRehearsal } from '../ui.js';

// The login of user account `name`, question by question (POST /accounts/{name}/login): the code
// Telegram sent, then the 2-step verification password with its hint, then who it logged in as.
function loginPanel(name, onReady) {
  const status = h('div', { 'aria-live': 'polite' });
  const label = h('span', {}, 'Login code');
  const input = h('input', { id: 'login-answer', autocomplete: 'off', spellcheck: false, required: true });
  const field = h('label', { hidden: true }, label, input);
  const submit = h('button', { type: 'submit', hidden: true }, 'Send');
  let asking = null;

  function show(state) {
    asking = null;
    if (state.state === 'code') {
      asking = 'code';
      label.textContent = 'Login code';
      input.type = 'text';
      status.replaceChildren(h('p', {}, state.message || 'Telegram sent a login code.'));
    } else if (state.state === 'password') {
      asking = 'password';
      label.textContent = '2-step verification password';
      input.type = 'password';
      status.replaceChildren(h('p', {}, state.hint ? `Hint: ${state.hint}` : 'The account has a 2-step verification password.'));
    } else if (state.state === 'ready') {
      status.replaceChildren(h('p', { class: 'ok', role: 'status' },
        state.username ? `Logged in as @${state.username}.` : 'Logged in.'));
      onReady();
    } else if (state.state === 'failed') {
      status.replaceChildren(errorBox(state.error));
    } else {
      status.replaceChildren(h('p', { class: 'muted' }, 'Waiting for Telegram…'));
    }
    field.hidden = !asking;
    submit.hidden = !asking;
    if (asking) input.focus();
  }

  async function step(answer) {
    submit.disabled = true;
    try {
      // Each call waits for the next question; 'waiting' means TDLib is slow: ask again.
      let state = await api.loginAccount(name, answer);
      for (let tries = 0; state.state === 'waiting' && tries < 10; ++tries) {
        show(state);
        state = await api.loginAccount(name, {});
      }
      show(state);
    } catch (error) {
      status.replaceChildren(errorBox(error));
    } finally {
      submit.disabled = false;
    }
  }

  const form = h('form', { class: 'card form', id: 'account-login', onsubmit: async (event) => {
    event.preventDefault();
    if (!asking) return;
    const answer = { [asking]: input.value };
    input.value = '';  // never keep a secret in the page longer than the request
    await step(answer);
  } },
  h('h2', {}, `Log in ${name}`), status, field, submit);
  show({ state: 'waiting' });
  step({});
  return form;
}

// A bot or a user account, REHEARSAL when it simulates one, with its @username when known.
function kindCell(a) {
  const rehearsal = a.kind === 'rehearsal' || a.kind === 'rehearsal-user';
  const kind = a.kind === 'rehearsal-user' || a.kind === 'user' ? 'user account' : 'bot';
  return h('span', {}, rehearsal ? h('span', { class: 'tag-rehearsal' }, 'REHEARSAL') : '',
    rehearsal ? ` ${kind}` : kind, a.bot_username ? ` @${a.bot_username}` : '');
}

export async function render(root) {
  const body = h('tbody');
  const login = h('div', { id: 'account-login-area' });
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
      h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Bot API server', 'Health', 'Flood pause', 'Added', ''].map((t) => h('th', {}, t)))),
      body)),
    login,
    form);

  async function refresh() {
    const { accounts } = await api.accounts();
    body.replaceChildren(...(accounts.length ? accounts.map((a) => h('tr', {},
      h('td', {}, a.name),
      h('td', {}, kindCell(a)),
      h('td', {}, a.kind === 'bot' || a.kind === 'rehearsal' ? (a.api_base ?? '') : '—'),
      h('td', {}, a.health ? badge(a.health) : '', a.health_reason ? ` ${a.health_reason}` : ''),
      h('td', {}, a.flood_until && a.flood_until > Date.now() ? relativeTime(a.flood_until) : '—'),
      h('td', {}, relativeTime(a.created_at)),
      h('td', {}, a.kind === 'user'
        ? h('button', { type: 'button', class: 'login-account', 'data-account': a.name,
          onclick: () => login.replaceChildren(loginPanel(a.name, () => refresh().catch(() => {}))) }, 'Log in')
        : '')))
      : [h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No accounts yet.'))]));
    setRehearsal(accounts.some((a) => a.kind === 'rehearsal' || a.kind === 'rehearsal-user'));
  }
  try {
    await refresh();
  } catch (error) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 7 }, errorBox(error))));
  }
  return { refresh };
}
