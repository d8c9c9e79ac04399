// #/settings — every setting with its value in force, globally or for one campaign. The server
// validates; its 400 message is shown under the field.

import { api } from '../api.js';
import { errorBox, h, select, setRehearsal } from '../ui.js';

export async function render(root, route) {
  const { campaigns } = await api.campaigns();
  const scope = select('Scope', [['', 'Global (all campaigns)'], ...campaigns.map((c) => [c.name, `Campaign ${c.name}`])],
    { id: 'settings-scope' });
  scope.el.value = route.params.campaign ?? '';
  const body = h('tbody');
  scope.el.addEventListener('change', () => {
    location.hash = scope.el.value ? `#/settings?campaign=${encodeURIComponent(scope.el.value)}` : '#/settings';
  });
  root.replaceChildren(h('h1', {}, 'Settings'), h('div', { class: 'filters' }, scope.label),
    h('div', { class: 'table-wrap' }, h('table', { class: 'settings' },
      h('thead', {}, h('tr', {}, ['Setting', 'Value', 'Default', 'From', ''].map((t) => h('th', {}, t)))),
      body)));

  const campaign = scope.el.value;
  setRehearsal(campaign ? Boolean(campaigns.find((c) => c.name === campaign)?.rehearsal)
    : campaigns.some((c) => c.rehearsal));

  function row(setting) {
    const id = `setting-${setting.key.replace(/[^a-z0-9]/gi, '-')}`;
    const locked = Boolean(campaign) && setting.global_only;
    const input = h('input', { id, value: setting.value ?? '', disabled: locked,
      'aria-describedby': `${id}-help`, autocomplete: 'off' });
    const message = h('div', { id: `${id}-msg`, 'aria-live': 'polite' });
    const save = h('button', { type: 'submit', disabled: locked }, 'Save');
    const own = campaign ? setting.source === 'campaign' : setting.source === 'global';
    const reset = h('button', { type: 'button', class: 'secondary', hidden: !own || locked,
      onclick: () => change(() => api.resetSetting(setting.key, campaign)) }, 'Reset');

    async function change(request) {
      save.disabled = reset.disabled = true;
      message.replaceChildren();
      try {
        await request();
        await refresh();
      } catch (error) {
        message.replaceChildren(errorBox(error));
        input.setAttribute('aria-invalid', 'true');
        save.disabled = reset.disabled = false;
      }
    }
    return h('tr', {},
      h('th', { scope: 'row' }, h('label', { for: id }, h('code', {}, setting.key)),
        h('p', { class: 'muted', id: `${id}-help` }, setting.description ?? '',
          locked ? ' Applies to all campaigns: change it globally.' : '')),
      h('td', {}, h('form', { class: 'inline', onsubmit: (event) => {
        event.preventDefault();
        change(() => api.setSetting(setting.key, input.value, campaign));
      } }, input, save), message),
      h('td', {}, h('code', {}, setting.default ?? '')),
      h('td', {}, setting.source),
      h('td', {}, reset));
  }

  async function refresh() {
    const { settings } = await api.settings(campaign);
    body.replaceChildren(...settings.map(row));
  }
  try {
    await refresh();
  } catch (error) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 5 }, errorBox(error))));
  }
  return {};
}
