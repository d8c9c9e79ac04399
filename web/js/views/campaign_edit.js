// #/campaigns/NAME/edit — change a campaign: its template (with the live preview; the change
// applies to invitations not yet sent), its chat and link mode (only while nothing was sent: the
// server refuses them after), and its schedule: a start and an end time, after which it pauses by
// itself. The times are the browser's local time, sent as ISO 8601 with the offset.

import { api } from '../api.js';
import { campaignHref } from '../router.js';
import { flash, h, missingRoute, setRehearsal } from '../ui.js';
import { createFormError, createLinkFields, createScheduleFields } from './campaign_form.js';
import { createTemplateEditor } from './template_editor.js';

export async function render(root, route) {
  const name = route.name;
  const c = await api.campaign(name);
  setRehearsal(Boolean(c.rehearsal));
  // The chat and the link change only while the campaign is not running and nothing went out
  // (the server decides; this only spares a refusal).
  const sentSomething = ['sent', 'joined', 'failed', 'unknown', 'sending', 'waiting']
    .some((state) => (c.counts?.[state] ?? 0) > 0);
  const running = c.state === 'running';
  const locked = sentSomething || running;

  const chat = h('input', { id: 'campaign-chat', required: true, autocomplete: 'off', value: c.chat ?? '' });
  const schedule = createScheduleFields({ startsAt: c.starts_at, endsAt: c.ends_at });
  const initial = { template: c.template ?? '', chat: c.chat ?? '', link_mode: c.link_mode ?? 'personal',
    shared_link: c.shared_link ?? '', schedule: schedule.local() };
  const context = () => ({ link_mode: links.mode, shared_link: links.sharedLink || undefined, name });
  const editor = createTemplateEditor({ id: 'campaign-template', value: initial.template, context });
  const links = createLinkFields({ mode: initial.link_mode, sharedLink: initial.shared_link,
    disabled: locked, onChange: () => editor.check() });
  chat.disabled = locked;
  const formError = createFormError();
  const submit = h('button', { type: 'submit' }, 'Save changes');

  const form = h('form', { class: 'card form campaign-form', onsubmit: async (event) => {
    event.preventDefault();
    formError.clear();
    const changes = {};
    try {
      if (editor.value !== initial.template) changes.template = editor.value;
      if (chat.value.trim() !== initial.chat) changes.chat = chat.value.trim();
      if (links.mode !== initial.link_mode) changes.link_mode = links.mode;
      if (links.sharedLink !== (initial.link_mode === 'shared' ? initial.shared_link : '')
        && links.mode === 'shared') changes.shared_link = links.sharedLink;
      const now = schedule.local();
      if (now.starts_at !== initial.schedule.starts_at) changes.starts_at = schedule.iso().starts_at;
      if (now.ends_at !== initial.schedule.ends_at) changes.ends_at = schedule.iso().ends_at;
    } catch (error) {
      formError.show(error);
      return;
    }
    if (Object.keys(changes).length === 0) {
      formError.show({ message: 'Nothing changed.' });
      return;
    }
    submit.disabled = true;
    try {
      await api.editCampaign(name, changes);
      flash(`Campaign ${name} saved.`);
      location.hash = campaignHref(name);
    } catch (error) {
      formError.show(missingRoute(error)
        ? { message: `This server cannot edit campaigns yet (PATCH /api/v1/campaigns/{name} is missing): nothing was changed. Use tginvite campaign edit ${name}.` }
        : error);
    } finally {
      submit.disabled = false;
    }
  } },
  editor.el,
  h('fieldset', {}, h('legend', {}, 'Chat and link'),
    sentSomething ? h('p', { class: 'note' }, 'Invitations were sent already: the chat and the link mode can no longer change.')
      : running ? h('p', { class: 'note' }, 'The campaign is running: pause it to change the chat or the link mode.') : '',
    h('label', {}, h('span', {}, 'Chat (group or channel)'), chat), ...links.els),
  schedule.el,
  formError.el,
  h('div', { class: 'actions' }, submit, h('a', { href: campaignHref(name) }, 'Cancel')));

  root.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Campaigns'), ' / ',
      h('a', { href: campaignHref(name) }, name), ' / '),
    h('h1', {}, `Edit ${name}`),
    form);
  await editor.check();
  return { dispose() { editor.dispose(); } };
}
