// #/contacts/ID and #/campaigns/NAME/contacts/ID — one contact: who it is, its invitation in the
// campaign (state, start link with its QR code and a copy button) and every request made for it.

import { api } from '../api.js';
import { campaignHref } from '../router.js';
import { badge, confirmAction, copyText, errorBox, formatNumber, h, flash, notify, relativeTime,
  setRehearsal, setText } from '../ui.js';

const FIELDS = [
  ['telegram_user_id', 'Telegram ID'], ['username', 'Username'], ['phone', 'Phone'],
  ['first_name', 'First name'], ['last_name', 'Last name'],
];
const INVITATION_FIELDS = [['attempts', 'Attempts'], ['last_error', 'Last error'],
  ['sent_at', 'Sent'], ['joined_at', 'Joined']];

function fieldText(key, value) {
  if (value === null || value === undefined || value === '') return '—';
  if (key === 'username') return `@${value}`;
  if (key === 'attempts') return formatNumber(value);
  return String(value);
}

// The start link: the link itself in a read-only field with a copy button, and its QR code (an
// SVG drawn by the server). Built once; update() swaps the link when it changes (renewed).
function createStartLink(name, id) {
  const field = h('input', { type: 'text', readonly: true, class: 'link-field', id: 'start-link',
    spellcheck: false, onfocus: (e) => e.target.select() });
  const copied = h('span', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const copy = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    const done = await copyText(field.value, field);
    setText(copied, done ? 'Copied.' : 'Copying is not allowed here: the link is selected, press Ctrl+C.');
  } }, 'Copy link');
  const qr = h('img', { class: 'qr', alt: 'QR code of the start link' });
  const missing = h('p', { class: 'warning', hidden: true },
    'No start link yet: getMe has not told the bot\u2019s username. Run ',
    h('code', {}, 'tginvite account check ACCOUNT'), '.');
  const present = h('div', { class: 'start-link' },
    h('div', {},
      h('label', { for: 'start-link' }, h('span', {}, 'Start link')),
      h('div', { class: 'inline' }, field, copy),
      copied,
      h('p', { class: 'muted' }, 'Send this link to the contact (or show the code): once they press ',
        h('em', {}, 'Start'), ' in the bot, the bot may write to them and their invitation goes out.')),
    h('figure', {}, qr, h('figcaption', { class: 'muted' }, 'Scan to open the bot')));
  const el = h('section', { class: 'card', 'aria-labelledby': 'start-link-title' },
    h('h2', { id: 'start-link-title' }, 'Start link'), present, missing);

  function update(contact) {
    const link = contact.start_link ?? '';
    present.hidden = !link;
    missing.hidden = Boolean(link);
    if (link && field.value !== link) {
      field.value = link;
      setText(copied, '');
      // A renewed link changes the image's address, so the browser fetches its new code.
      qr.src = `${api.startLinkQrUrl(name, id)}?v=${encodeURIComponent(link.slice(-8))}`;
    }
  }
  return { el, update };
}

const plural = (n, word) => `${formatNumber(n)} ${word}${n === 1 ? '' : 's'}`;

// "Forget this person": an erasure request, confirmed first; then back to the contacts list with
// what was deleted.
function createForget(id, who) {
  const button = h('button', { type: 'button', class: 'danger', id: 'forget' }, 'Forget this person…');
  button.addEventListener('click', async () => {
    const name = who();
    const confirmed = await confirmAction({
      title: `Forget ${name}?`,
      body: `${name}'s contact, every invitation of theirs in every campaign and their personal invite and start links are deleted. The requests already made for them stay in the history without anything that names them. Their Telegram ID, username and phone stay suppressed, so that no later import invites them again. This cannot be undone.`,
      action: 'Forget this person',
    });
    if (!confirmed) return;
    button.disabled = true;
    try {
      const result = await api.forgetContact(id);
      const d = result.deleted;
      flash(`${name} was forgotten: deleted ${plural(d.contacts, 'contact')}, `
        + `${plural(d.invitations, 'invitation')}, ${plural(d.invite_links, 'invite link')} and `
        + `${plural(d.start_links, 'start link')}; ${plural(result.attempts_detached, 'request')} kept `
        + 'without their name. No import will bring them back.', 'ok');
      location.hash = '#/contacts';
    } catch (error) {
      notify(`Forgetting ${name} failed: ${error.message}`);
      button.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'erasure-title' },
    h('h2', { id: 'erasure-title' }, 'Erasure'),
    h('p', { class: 'muted' }, 'When this person asks to be forgotten: their data goes, and they are never invited again.'),
    button);
}

export async function render(root, route) {
  const { id, name } = route;
  let data = await api.contact(id, name);

  const title = h('h1');
  const state = h('span');
  const cells = Object.fromEntries([...FIELDS, ...(name ? INVITATION_FIELDS : [])]
    .map(([key]) => [key, h('dd', { 'data-field': key })]));
  const startLink = name ? createStartLink(name, id) : null;
  const attemptsBody = h('tbody');

  const crumbs = name
    ? [h('a', { href: '#/' }, 'Campaigns'), ' / ', h('a', { href: campaignHref(name) }, name), ' / ',
      h('a', { href: `#/contacts?campaign=${encodeURIComponent(name)}` }, 'Contacts'), ' / ']
    : [h('a', { href: '#/contacts' }, 'Contacts'), ' / '];
  root.replaceChildren(
    h('p', { class: 'crumbs' }, crumbs),
    h('header', { class: 'page-head' }, title, state),
    h('section', { class: 'card' },
      h('h2', {}, name ? `Invitation in ${name}` : 'Contact'),
      h('dl', { class: 'fields' },
        [...FIELDS, ...(name ? INVITATION_FIELDS : [])].map(([key, label]) =>
          h('div', {}, h('dt', {}, label), cells[key])))),
    ...(startLink ? [startLink.el] : []),
    h('section', { class: 'card' }, h('h2', {}, 'Requests made for this contact'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'attempts' },
        h('thead', {}, h('tr', {}, ['When', 'Campaign', 'Request', 'Outcome', 'Error'].map((t) => h('th', {}, t)))),
        attemptsBody))),
    createForget(id, () => data.contact.label || `contact ${id}`));

  function show(contact) {
    setText(title, contact.label || `Contact ${id}`);
    if (name) {
      if (state.dataset.state !== contact.state) {
        state.dataset.state = contact.state ?? '';
        state.replaceChildren(contact.state ? badge(contact.state) : '');
      }
    }
    for (const [key, cell] of Object.entries(cells)) {
      if (key === 'sent_at' || key === 'joined_at') cell.replaceChildren(relativeTime(contact[key]));
      else setText(cell, fieldText(key, contact[key]));
    }
    startLink?.update(contact);
  }

  function showAttempts({ attempts }) {
    attemptsBody.replaceChildren(...(attempts.length ? attempts.map((a) => h('tr', {},
      h('td', {}, relativeTime(a.started_at)),
      h('td', {}, a.campaign ?? ''),
      h('td', {}, a.request ?? ''),
      h('td', {}, a.outcome ? badge(a.outcome) : ''),
      h('td', { class: 'wrap' }, a.error || '—')))
      : [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No requests yet.'))]));
  }

  async function refresh() {
    const [contact, attempts] = await Promise.allSettled([api.contact(id, name), api.contactAttempts(id)]);
    if (contact.status === 'rejected') throw contact.reason;
    data = contact.value;
    show(data.contact);
    if (attempts.status === 'fulfilled') showAttempts(attempts.value);
    else attemptsBody.replaceChildren(h('tr', {}, h('td', { colspan: 5 }, errorBox(attempts.reason))));
  }

  show(data.contact);
  if (name) {
    // The campaign's account decides the REHEARSAL banner; the page works without it.
    api.campaign(name).then((c) => setRehearsal(Boolean(c.rehearsal)), () => {});
  }
  await refresh();
  return { refresh };
}
