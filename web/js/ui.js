// DOM helpers. Everything that came from the server enters the page as text (textContent, text
// nodes, attribute values), never as markup: contact names are user input.

// h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child, [more]) -> element.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'innerHTML' || key === 'outerHTML') throw new Error('ui.h: markup is not allowed');
    if (key.startsWith('on')) {
      el.addEventListener(key.slice(2), value);
    } else if (key in el && typeof value !== 'string') {
      el[key] = value;  // properties such as disabled, value, checked
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function setText(el, text) {
  if (el.textContent !== String(text)) el.textContent = text;
}

const numberFormat = new Intl.NumberFormat();
export const formatNumber = (n) => (n === null || n === undefined ? '—' : numberFormat.format(n));

// "42 s", "3 min", "2 h 5 min", "3 d".
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

// A <time> saying "3 min ago" (or "in 2 min") with the exact time on hover. unixMs: 0/null -> "—".
export function relativeTime(unixMs) {
  if (!unixMs) return h('span', {}, '—');
  const date = new Date(unixMs);
  const delta = (unixMs - Date.now()) / 1000;
  const text = Math.abs(delta) < 5 ? 'just now'
    : delta < 0 ? `${formatDuration(-delta)} ago` : `in ${formatDuration(delta)}`;
  return h('time', { datetime: date.toISOString(), title: date.toLocaleString() }, text);
}

// A badge for an invitation or campaign state: coloured, and always with its words
// ("awaiting_start" reads "awaiting start").
export const badge = (state) => h('span', { class: `badge badge-${state}` }, String(state).replaceAll('_', ' '));

export function errorBox(error) {
  return h('p', { class: 'error', role: 'alert' }, error?.message ?? String(error));
}

// The page-wide message area (errors of background refreshes and actions).
export function notify(message, kind = 'error') {
  const area = document.getElementById('notice');
  area.replaceChildren();
  if (!message) return;
  area.append(h('p', { class: kind, role: kind === 'error' ? 'alert' : 'status' }, message,
    h('button', { type: 'button', class: 'link', onclick: () => area.replaceChildren() }, 'Dismiss')));
}

// A message for the next page: shown once the navigation that follows has happened ("Campaign
// spring saved." after the edit page hands over to the campaign's page).
let flashed = null;
export function flash(message, kind = 'ok') {
  flashed = { message, kind };
}
export function takeFlash() {
  const taken = flashed;
  flashed = null;
  return taken;
}

export function setRehearsal(on) {
  document.getElementById('rehearsal-banner').hidden = !on;
}

// A modal confirmation of our own (window.confirm cannot say enough, and blocks the page).
// Resolves true when the operator chose the action. `extra`: more of the form (a checkbox that
// qualifies the action), read by the caller once this resolves.
export function confirmAction({ title, body, action, extra }) {
  const dialog = document.getElementById('confirm');
  dialog.replaceChildren(
    h('form', { method: 'dialog' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', {}, body),
      extra,
      h('div', { class: 'actions' },
        h('button', { value: 'cancel', class: 'secondary' }, 'Cancel'),
        h('button', { value: 'confirm', class: 'danger' }, action))));
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.showModal();
    dialog.querySelector('button[value=cancel]').focus();
  });
}

// <label>text<select>options</select></label>; options: [[value, label]] or [value].
export function select(label, options, attrs = {}) {
  const el = h('select', attrs,
    options.map((o) => (Array.isArray(o) ? h('option', { value: o[0] }, o[1]) : h('option', { value: o }, o))));
  return { label: h('label', {}, h('span', {}, label), el), el };
}

// Invitation states in the order of their life; awaiting_start comes before pending: the contact
// has not pressed Start through their start link yet.
export const STATES = ['awaiting_start', 'pending', 'sending', 'sent', 'joined', 'waiting', 'failed',
  'unknown', 'skipped', 'cancelled'];

// Copies `text` to the clipboard: navigator.clipboard where the page is a secure context (https,
// or localhost), else the old way through a selected field (`field`, an <input> holding the text).
// Resolves true when the text was copied.
export async function copyText(text, field) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Refused (permissions, no focus): try the field below.
    }
  }
  if (!field) return false;
  field.focus();
  field.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

// Waits `ms` after the last call before it runs `fn` (the template preview while typing).
export function debounce(fn, ms) {
  let timer = 0;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

// True when an API error says the server has no such route (an older server, or a route still
// being built): the page says so instead of showing a bare 404.
export const missingRoute = (error) => error?.status === 405
  || (error?.status === 404 && /no such route/.test(error.message ?? ''));
