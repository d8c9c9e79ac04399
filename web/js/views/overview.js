// #/ — a card per campaign.

import { api } from '../api.js';
import { campaignHref } from '../router.js';
import { badge, h, setRehearsal, setText } from '../ui.js';
import { createSummary } from './summary.js';

export async function render(root) {
  const list = h('div', { class: 'cards' });
  const empty = h('p', { class: 'muted', hidden: true },
    'No campaigns yet. ', h('a', { href: '#/new-campaign' }, 'Create one'), ' (or with ',
    h('code', {}, 'tginvite campaign create'), '), then import contacts on the ',
    h('a', { href: '#/import' }, 'Import'), ' page.');
  root.replaceChildren(
    h('header', { class: 'page-head' }, h('h1', {}, 'Campaigns'),
      h('a', { class: 'button-link', href: '#/new-campaign' }, 'New campaign')),
    empty, list);
  const cards = new Map();  // name -> {el, update}

  function card(name) {
    const state = h('span');
    const tag = h('span', { class: 'tag-rehearsal', hidden: true }, 'REHEARSAL');
    const summary = createSummary();
    const el = h('article', { class: 'card campaign-card' },
      h('header', {}, h('h2', {}, h('a', { href: campaignHref(name) }, name)), state, tag),
      summary.el);
    return {
      el,
      update(c) {
        if (state.textContent !== c.state) state.replaceChildren(badge(c.state));
        tag.hidden = !c.rehearsal;
        summary.update(c);
      },
    };
  }

  async function refresh() {
    const { campaigns } = await api.campaigns();
    const seen = new Set();
    campaigns.forEach((c, i) => {
      seen.add(c.name);
      if (!cards.has(c.name)) cards.set(c.name, card(c.name));
      const entry = cards.get(c.name);
      entry.update(c);
      if (list.children[i] !== entry.el) list.insertBefore(entry.el, list.children[i] ?? null);
    });
    for (const [name, entry] of cards) {
      if (!seen.has(name)) { entry.el.remove(); cards.delete(name); }
    }
    empty.hidden = campaigns.length > 0;
    setRehearsal(campaigns.some((c) => c.rehearsal && c.state !== 'cancelled'));
  }
  await refresh();
  return { refresh };
}
