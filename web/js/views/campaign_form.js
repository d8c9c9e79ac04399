// Pieces the create and edit pages share: the link fields (mode, and the shared link when the
// mode is shared) and the form's error area, next to the form, that says what the server refused.

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
