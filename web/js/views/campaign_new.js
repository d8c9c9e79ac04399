// #/new-campaign — create a campaign (a draft): name, account, chat, link mode, reach, method, the
// message template with its live preview, and optionally its schedule. The server checks everything again on create; what
// it refuses is shown beside the form and nothing typed is lost.

import { api } from '../api.js';
import { campaignHref } from '../router.js';
import { flash, h, select } from '../ui.js';
import { createFormError, createLinkFields, createScheduleFields } from './campaign_form.js';
import { createTemplateEditor } from './template_editor.js';

const REACH = [['both', 'Both: message whom the bot can reach, start links for the others'],
  ['direct', 'Direct: message only'], ['start-link', 'Start links only']];
const METHODS = [['add-then-message', 'Add, message where privacy refuses'],
  ['add', 'Add to the chat only'], ['message', 'Message the link only']];

const isUser = (account) => account?.kind === 'user' || account?.kind === 'rehearsal-user';

export async function render(root) {
  const { accounts } = await api.accounts();

  const name = h('input', { id: 'campaign-name', required: true, autocomplete: 'off',
    pattern: '[A-Za-z0-9_.\\-]+', title: 'Letters, digits, ".", "-" and "_"' });
  const account = select('Account', accounts.map((a) => [a.name,
    `${a.name}${a.kind.startsWith('rehearsal') ? ' (REHEARSAL: sends nothing)' : ''}`]),
  { id: 'campaign-account', required: true });
  const chat = h('input', { id: 'campaign-chat', required: true, autocomplete: 'off',
    placeholder: '-1001234567890 or @channelname' });
  const reach = select('Reach', REACH, { id: 'campaign-reach' });
  const method = select('Method (user accounts)', METHODS, { id: 'campaign-method' });
  const schedule = createScheduleFields();
  const formError = createFormError();
  const submit = h('button', { type: 'submit' }, 'Create campaign');

  const context = () => ({ link_mode: links.mode, shared_link: links.sharedLink || undefined,
    name: name.value.trim() || undefined });
  const editor = createTemplateEditor({ id: 'campaign-template', context });
  const links = createLinkFields({ onChange: () => editor.check() });
  name.addEventListener('change', () => { if (editor.value) editor.check(); });

  // A user account writes first and adds: direct reach, add-then-message, as the CLI defaults.
  function accountChanged() {
    const chosen = accounts.find((a) => a.name === account.el.value);
    const user = isUser(chosen);
    method.label.hidden = !user;
    reach.el.value = user ? 'direct' : 'both';
    method.el.value = 'add-then-message';
  }
  account.el.addEventListener('change', accountChanged);
  accountChanged();

  const form = h('form', { class: 'card form campaign-form', onsubmit: async (event) => {
    event.preventDefault();
    formError.clear();
    const chosen = accounts.find((a) => a.name === account.el.value);
    const campaign = {
      name: name.value.trim(), account: account.el.value, chat: chat.value.trim(),
      template: editor.value, link_mode: links.mode, reach: reach.el.value,
    };
    if (links.sharedLink) campaign.shared_link = links.sharedLink;
    if (isUser(chosen)) campaign.method = method.el.value;
    try {
      const { starts_at: starts, ends_at: ends } = schedule.iso();
      if (starts) campaign.starts_at = starts;
      if (ends) campaign.ends_at = ends;
    } catch (error) {
      formError.show(error);
      return;
    }
    submit.disabled = true;
    try {
      const created = await api.createCampaign(campaign);
      flash(`Campaign ${created.campaign.name} created (a draft): import its contacts, then start it.`);
      location.hash = campaignHref(created.campaign.name);
    } catch (error) {
      formError.show(error);
    } finally {
      submit.disabled = false;
    }
  } },
  h('label', {}, h('span', {}, 'Name'), name),
  account.label,
  h('label', {}, h('span', {}, 'Chat (group or channel)'), chat),
  ...links.els, reach.label, method.label,
  editor.el,
  schedule.el,
  formError.el,
  h('div', { class: 'actions' }, submit, h('a', { href: '#/' }, 'Cancel')));

  root.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Campaigns'), ' / '),
    h('h1', {}, 'New campaign'),
    accounts.length ? form : h('p', { class: 'warning' }, 'A campaign needs an account to send with: add one on the ',
      h('a', { href: '#/accounts' }, 'Accounts'), ' page first.'));
  return { dispose() { editor.dispose(); } };
}
