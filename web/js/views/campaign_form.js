// Pieces the create and edit pages share: the link fields (mode, and the shared link when the
// mode is shared), the schedule (start and end, in the browser's local time, sent as ISO 8601
// with the offset) and the form's error area, next to the form, that says what the server refused.

import { errorBox, h, select } from '../ui.js';

export const LINK_MODES = [['personal', 'Personal link per contact'],
  ['shared', 'One shared link'], ['join-request', 'Join request (approved by the bot)']];

// The link mode select and the shared link field (shown for the shared mode only). onChange runs
// after either changed.
export function createLinkFields({ mode = 'personal', sharedLink = '', disabled = false,
  onChange = () => {} } = {}) {
  const linkMode = select('Link mode', LINK_MODES, { id: 'campaign-link-mode', disabled });
  linkMode.el.value = mode;
  const shared = h('input', { id: 'campaign-shared-link', type: 'url', autocomplete: 'off',
    placeholder: 'https://t.me/+… (empty: the campaign creates one)', value: sharedLink, disabled });
  const sharedLabel = h('label', {}, h('span', {}, 'Shared link (optional)'), shared);
  const update = () => { sharedLabel.hidden = linkMode.el.value !== 'shared'; };
  linkMode.el.addEventListener('change', () => { update(); onChange(); });
  shared.addEventListener('change', onChange);
  update();
  return {
    els: [linkMode.label, sharedLabel],
    get mode() { return linkMode.el.value; },
    // The shared link as the API takes it: only for the shared mode.
    get sharedLink() { return linkMode.el.value === 'shared' ? shared.value.trim() : ''; },
  };
}

// Where the server's refusal is shown: beside the submit button, announced, focused so that a
// keyboard user hears it; the form's values stay as they were.
export function createFormError() {
  const el = h('div', { class: 'form-error', tabindex: '-1' });
  return {
    el,
    show(error) {
      el.replaceChildren(errorBox(error));
      el.focus();
    },
    clear() { el.replaceChildren(); },
  };
}

const pad = (n) => String(n).padStart(2, '0');

// A stored time (ISO 8601 or unix ms; null when unset) as a datetime-local value, in local time.
export function toLocalInput(value) {
  if (value === null || value === undefined || value === '') return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// A datetime-local value ("2026-12-24T09:00") as ISO 8601 with the browser's offset at that time
// ("2026-12-24T09:00:00+01:00"); null for an empty value.
export function toIsoWithOffset(local) {
  if (!local) return null;
  const d = new Date(local);
  if (Number.isNaN(d.getTime())) throw new Error(`${local}: not a date and time`);
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

// The schedule's two fields. local(): the values as typed; iso(): as the API takes them (null for
// an empty field); throws for a value that is no date.
export function createScheduleFields({ startsAt = null, endsAt = null } = {}) {
  const starts = h('input', { id: 'campaign-starts-at', type: 'datetime-local', value: toLocalInput(startsAt) });
  const ends = h('input', { id: 'campaign-ends-at', type: 'datetime-local', value: toLocalInput(endsAt) });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return {
    el: h('fieldset', {}, h('legend', {}, 'Schedule'),
      h('p', { class: 'muted' }, `Times are your browser's local time (${zone}). Empty: no limit. Nothing is sent before the start; the campaign pauses by itself at its end.`),
      h('label', {}, h('span', {}, 'Starts at'), starts),
      h('label', {}, h('span', {}, 'Ends at'), ends)),
    local: () => ({ starts_at: starts.value, ends_at: ends.value }),
    iso: () => ({ starts_at: toIsoWithOffset(starts.value), ends_at: toIsoWithOffset(ends.value) }),
  };
}
