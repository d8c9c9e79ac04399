// #/tokens — API tokens for scripts (Authorization: Bearer): the list (names, scopes, times; never a
// secret), a form to create one, whose secret is shown once in a box to copy and is gone when the
// box is closed or the page is left, and a confirmed revocation. Only the admin session may do
// this: the server refuses every API token here.

import { api } from '../api.js';
import { badge, confirmAction, copyText, errorBox, h, notify, relativeTime, select } from '../ui.js';

const SCOPES = [['write', 'write: everything'], ['read', 'read: every GET and /metrics'],
  ['metrics', 'metrics: GET /metrics only']];
const LIFETIMES = [['', 'never'], ['30d', '30 days'], ['90d', '90 days'], ['365d', '1 year']];

// The new token's secret, once: a read-only field to copy from, a Copy button, a warning, and a
// Done button that removes it from the page.
function secretBox(created, onDone) {
  const field = h('input', { id: 'new-token-secret', readonly: true, value: created.token,
    autocomplete: 'off', spellcheck: false, 'aria-describedby': 'new-token-warning' });
  const copied = h('span', { role: 'status', class: 'muted' });
  const box = h('section', { class: 'card secret-once', 'aria-labelledby': 'new-token-title' },
    h('h2', { id: 'new-token-title' }, `Token ${created.name} (${created.scope})`),
    h('p', { id: 'new-token-warning' }, h('strong', {}, 'Copy it now: it is shown only this once and cannot be shown again.'),
      ' Use it as ', h('code', {}, 'Authorization: Bearer TOKEN'), '. Lost it? Revoke it and create another.'),
    h('label', {}, h('span', {}, 'Token'), field),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: async () => {
        copied.textContent = (await copyText(created.token, field)) ? 'Copied.' : 'Select the field and copy it by hand.';
      } }, 'Copy'),
      h('button', { type: 'button', class: 'secondary', onclick: () => { field.value = ''; onDone(); } }, 'Done'),
      copied));
  return { box, field };
}

export async function render(root) {
  const body = h('tbody');
  const once = h('div');
  const name = h('input', { id: 'token-name', required: true, autocomplete: 'off', pattern: '[A-Za-z0-9_.\\-]+',
    title: 'Letters, digits, ".", "-" and "_"' });
  const scope = select('Scope', SCOPES, { id: 'token-scope' });
  const lifetime = select('Expires after', LIFETIMES, { id: 'token-expires' });
  const message = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Create token');
  let shown = '';

  const form = h('form', { class: 'card form', onsubmit: async (event) => {
    event.preventDefault();
    message.replaceChildren();
    submit.disabled = true;
    try {
      const request = { name: name.value.trim(), scope: scope.el.value };
      if (lifetime.el.value) request.expires_in = lifetime.el.value;
      const created = await api.createToken(request);
      form.reset();
      const { box, field } = secretBox(created, () => { once.replaceChildren(); name.focus(); });
      once.replaceChildren(box);
      field.focus();
      field.select();
      await refresh();
    } catch (error) {
      message.replaceChildren(errorBox(error));
      name.focus();
    } finally {
      submit.disabled = false;
    }
  } },
  h('h2', {}, 'Create a token'),
  h('label', {}, h('span', {}, 'Name'), name), scope.label, lifetime.label, message, submit);

  async function revoke(token, button) {
    const confirmed = await confirmAction({
      title: `Revoke token ${token.name}?`,
      body: `Every request with it is refused from now on (401). Scripts that use it stop working. This cannot be undone.`,
      action: 'Revoke token',
    });
    if (!confirmed) { button.focus(); return; }
    button.disabled = true;
    try {
      await api.revokeToken(token.name);
      notify(`Token ${token.name} revoked.`, 'ok');
      await refresh();
      name.focus();
    } catch (error) {
      notify(`Revoking ${token.name} failed: ${error.message}`);
      button.disabled = false;
    }
  }

  root.replaceChildren(h('h1', {}, 'API tokens'),
    h('p', { class: 'muted' }, 'Tokens let scripts call the API. Only this admin session manages them; no token can.'),
    once,
    h('section', { class: 'card', 'aria-labelledby': 'tokens-title' },
      h('h2', { id: 'tokens-title' }, 'Tokens'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'tokens' },
        h('thead', {}, h('tr', {}, ['Name', 'Scope', 'Created', 'Expires', 'Status', ''].map((t) => h('th', {}, t)))),
        body))),
    form);

  async function refresh() {
    const { tokens } = await api.tokens();
    const text = JSON.stringify(tokens);
    if (text === shown) return;
    shown = text;
    const now = Date.now();
    body.replaceChildren(...(tokens.length ? tokens.map((t) => {
      const expired = t.expires_at && t.expires_at <= now;
      const status = t.revoked_at ? ['revoked ', relativeTime(t.revoked_at)]
        : expired ? ['expired'] : ['active'];
      const button = h('button', { type: 'button', class: 'secondary', 'data-token': t.name,
        'aria-label': `Revoke ${t.name}`, hidden: Boolean(t.revoked_at) }, 'Revoke…');
      button.addEventListener('click', () => revoke(t, button));
      return h('tr', { 'data-token-row': t.name, class: t.revoked_at ? 'muted' : '' },
        h('td', {}, t.name),
        h('td', {}, badge(t.scope)),
        h('td', {}, relativeTime(t.created_at)),
        h('td', {}, t.expires_at ? relativeTime(t.expires_at) : 'never'),
        h('td', {}, ...status),
        h('td', {}, button));
    }) : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No API tokens yet.'))]));
  }
  try {
    await refresh();
  } catch (error) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 6 }, errorBox(error))));
  }
  return { refresh };
}
