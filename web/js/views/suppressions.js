// #/suppressions — the people no campaign may invite again (opt-outs, blocked bots, requests by
// hand): the list, a form to add one (their pending invitations become skipped at once) and a
// confirmed removal.

import { api } from '../api.js';
import { confirmAction, errorBox, formatNumber, h, notify, relativeTime } from '../ui.js';

// A stored key as the operator reads it: "username:bob" -> "@bob", "phone:+49…" -> "+49…",
// "id:42" stays "id:42" (a bare number reads like a count).
export function userOf(key) {
  if (key.startsWith('username:')) return `@${key.slice('username:'.length)}`;
  if (key.startsWith('phone:')) return key.slice('phone:'.length);
  return key;
}

// The key as the API takes a user back (a user id, @username or +phone): "id:42" -> "42".
const refOf = (key) => (key.startsWith('id:') ? key.slice('id:'.length) : userOf(key));

export async function render(root) {
  const body = h('tbody');
  const count = h('p', { class: 'muted', role: 'status' });
  const user = h('input', { id: 'suppression-user', required: true, autocomplete: 'off', spellcheck: false,
    placeholder: '@username, 123456789 (a user id) or +4930123456' });
  const reason = h('input', { id: 'suppression-reason', autocomplete: 'off', placeholder: 'asked not to be invited' });
  const message = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Suppress');
  let shown = '';  // the list last drawn: a poll that changes nothing redraws nothing (focus stays)

  const form = h('form', { class: 'card form', onsubmit: async (event) => {
    event.preventDefault();
    message.replaceChildren();
    submit.disabled = true;
    try {
      const added = await api.addSuppression(user.value.trim(), reason.value.trim());
      message.replaceChildren(h('p', { class: 'ok', role: 'status' },
        `${userOf(added.key)} is suppressed; ${formatNumber(added.skipped)} pending invitations were skipped.`));
      form.reset();
      await refresh();
      user.focus();
    } catch (error) {
      message.replaceChildren(errorBox(error));  // what was typed stays for a correction
      user.setAttribute('aria-invalid', 'true');
      user.focus();
    } finally {
      submit.disabled = false;
    }
  } },
  h('h2', {}, 'Suppress someone'),
  h('label', {}, h('span', {}, 'User (@username, user id or +phone)'), user),
  h('label', {}, h('span', {}, 'Reason (optional)'), reason),
  message, submit);
  user.addEventListener('input', () => user.removeAttribute('aria-invalid'));

  async function remove(key, button) {
    const who = userOf(key);
    const confirmed = await confirmAction({
      title: `Lift the suppression of ${who}?`,
      body: `Campaigns may invite ${who} again: invitations that were skipped stay skipped, but a new import or campaign can reach them.`,
      action: 'Lift suppression',
    });
    if (!confirmed) { button.focus(); return; }
    button.disabled = true;
    try {
      await api.removeSuppression(refOf(key));
      notify(`The suppression of ${who} was lifted.`, 'ok');
      await refresh();
      user.focus();
    } catch (error) {
      notify(`Removing ${who} failed: ${error.message}`);
      button.disabled = false;
    }
  }

  root.replaceChildren(h('h1', {}, 'Suppressions'),
    h('p', { class: 'muted' }, 'Nobody listed here is invited by any campaign. Blocking the bot puts a user here by itself.'),
    form,
    h('section', { class: 'card', 'aria-labelledby': 'suppressions-title' },
      h('h2', { id: 'suppressions-title' }, 'Suppressed'), count,
      h('div', { class: 'table-wrap tall' }, h('table', { class: 'suppressions' },
        h('thead', {}, h('tr', {}, ['User', 'Reason', 'Since', ''].map((t) => h('th', {}, t)))),
        body))));

  async function refresh() {
    const { suppressions } = await api.suppressions();
    const text = JSON.stringify(suppressions);
    if (text === shown) return;
    shown = text;
    count.textContent = `${formatNumber(suppressions.length)} suppressed`;
    body.replaceChildren(...(suppressions.length ? suppressions.map((s) => {
      const button = h('button', { type: 'button', class: 'secondary', 'data-key': s.key,
        'aria-label': `Remove ${userOf(s.key)}` }, 'Remove…');
      button.addEventListener('click', () => remove(s.key, button));
      return h('tr', { 'data-suppression': s.key },
        h('td', {}, userOf(s.key)),
        h('td', { class: 'wrap' }, s.reason || '—'),
        h('td', {}, relativeTime(s.created_at)),
        h('td', {}, button));
    }) : [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'Nobody is suppressed.'))]));
  }
  try {
    await refresh();
  } catch (error) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 4 }, errorBox(error))));
  }
  return { refresh };
}
