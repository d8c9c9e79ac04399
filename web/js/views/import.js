// #/import — upload a CSV, read the dry run's validation report, then commit it.

import { api } from '../api.js';
import { campaignHref } from '../router.js';
import { errorBox, formatNumber, h, select, setRehearsal } from '../ui.js';

const TOTALS = [['imported', 'New contacts'], ['updated', 'Updated contacts'], ['duplicates', 'Duplicates in the file'],
  ['conflicts', 'Conflicts'], ['enqueued', 'Invitations queued'], ['skipped', 'Skipped (suppressed or already invited)']];

export async function render(root, route) {
  const { campaigns } = await api.campaigns();
  const open = campaigns.filter((c) => c.state !== 'cancelled');
  const campaign = select('Campaign', open.map((c) => c.name), { id: 'import-campaign', required: true });
  if (route.params.campaign) campaign.el.value = route.params.campaign;
  const region = h('input', { id: 'import-region', value: 'DE', maxlength: 2, size: 3, autocomplete: 'off',
    pattern: '[A-Za-z]{2}', title: 'Two-letter country code for phone numbers without +' });
  const file = h('input', { id: 'import-file', type: 'file', accept: '.csv,text/csv', required: true });
  const check = h('button', { type: 'submit' }, 'Check file');
  const report = h('div', { 'aria-live': 'polite' });

  const markRehearsal = () =>
    setRehearsal(Boolean(open.find((c) => c.name === campaign.el.value)?.rehearsal));
  campaign.el.addEventListener('change', () => { markRehearsal(); report.replaceChildren(); });
  file.addEventListener('change', () => report.replaceChildren());
  markRehearsal();

  const form = h('form', { class: 'card form', onsubmit: async (event) => {
    event.preventDefault();
    if (!file.files.length) return;
    check.disabled = true;
    report.replaceChildren(h('p', { class: 'muted' }, 'Checking…'));
    try {
      const dryRun = await api.previewImport(campaign.el.value, region.value.toUpperCase(), file.files[0]);
      showReport(dryRun, campaign.el.value);
    } catch (error) {
      report.replaceChildren(errorBox(error));
    } finally {
      check.disabled = false;
    }
  } },
  campaign.label,
  h('label', {}, h('span', {}, 'Default region'), region),
  h('label', {}, h('span', {}, 'CSV file'), file),
  h('p', { class: 'muted' }, 'Header row with any of: telegram_user_id, username, first_name, last_name, phone, consent. ',
    'Nothing is written until you commit the checked file.'),
  check);

  root.replaceChildren(h('h1', {}, 'Import contacts'), ...(open.length ? [form, report]
    : [h('p', { class: 'muted' }, 'Create a campaign first: contacts are imported into a campaign.')]));

  function showReport(dryRun, campaignName) {
    const commit = h('button', { type: 'button', id: 'commit-import' },
      `Commit ${formatNumber(dryRun.valid)} valid rows`);
    const result = h('div', { 'aria-live': 'polite' });
    commit.disabled = dryRun.valid === 0;
    commit.addEventListener('click', async () => {
      commit.disabled = true;
      try {
        const committed = await api.commitImport(dryRun.id);
        result.replaceChildren(h('p', { class: 'ok', role: 'status' }, 'Imported. ',
          ...TOTALS.map(([key, label]) => `${label}: ${formatNumber(committed.totals?.[key] ?? 0)}. `),
          h('a', { href: campaignHref(campaignName) }, `Open ${campaignName}`)));
        commit.hidden = true;
      } catch (error) {
        result.replaceChildren(errorBox(error));
        commit.disabled = false;
      }
    });
    const problems = dryRun.problems ?? [];
    report.replaceChildren(h('section', { class: 'card', id: 'import-report' },
      h('h2', {}, 'Check result'),
      h('dl', { class: 'facts' },
        h('div', {}, h('dt', {}, 'Rows'), h('dd', { class: 'num' }, formatNumber(dryRun.rows))),
        h('div', {}, h('dt', {}, 'Valid'), h('dd', { class: 'num', 'data-count': 'valid' }, formatNumber(dryRun.valid))),
        h('div', {}, h('dt', {}, 'Rejected'), h('dd', { class: 'num', 'data-count': 'rejected' }, formatNumber(dryRun.rejected))),
        TOTALS.map(([key, label]) => h('div', {}, h('dt', {}, label),
          h('dd', { class: 'num' }, formatNumber(dryRun.totals?.[key] ?? 0))))),
      (dryRun.warnings ?? []).map((w) => h('p', { class: 'warning' }, w)),
      problems.length ? [
        h('h3', {}, `Rejected rows (${formatNumber(dryRun.rejected)})`),
        dryRun.problems_truncated ? h('p', { class: 'muted' }, `The first ${formatNumber(problems.length)} are listed.`) : null,
        h('div', { class: 'table-wrap' }, h('table', { class: 'problems' },
          h('thead', {}, h('tr', {}, h('th', { class: 'num' }, 'Line'), h('th', {}, 'Reason'))),
          h('tbody', {}, problems.map((p) => h('tr', {},
            h('td', { class: 'num' }, String(p.line)), h('td', { class: 'wrap' }, p.message)))))),
      ] : h('p', {}, 'No rejected rows.'),
      h('div', { class: 'actions' }, commit), result));
    commit.focus();
  }
  return {};
}
