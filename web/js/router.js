// Hash routes, so the server serves only / and /assets/: #/, #/campaigns/NAME, #/contacts,
// #/contacts/ID, #/campaigns/NAME/contacts/ID (the contact with its invitation in the campaign),
// #/import, #/accounts, #/settings, #/new-campaign, #/campaigns/NAME/edit, #/suppressions,
// #/tokens. Query parameters after a "?" in the hash are passed along.

// decodeURIComponent throws on a malformed escape (#/campaigns/%E0): such a part is no name.
function decodePart(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

export function parseRoute(hash = location.hash) {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodePart);
  const params = Object.fromEntries(new URLSearchParams(query));
  if (parts.includes(null)) return { view: 'not-found', params };
  if (parts.length === 0) return { view: 'overview', params };
  if (parts[0] === 'campaigns' && parts.length === 2) {
    return { view: 'campaign', name: parts[1], params };
  }
  if (parts[0] === 'campaigns' && parts.length === 3 && parts[2] === 'edit') {
    return { view: 'campaign-edit', name: parts[1], params };
  }
  if (parts[0] === 'campaigns' && parts.length === 4 && parts[2] === 'contacts' && /^\d+$/.test(parts[3])) {
    return { view: 'contact', name: parts[1], id: parts[3], params };
  }
  if (parts[0] === 'contacts' && parts.length === 2 && /^\d+$/.test(parts[1])) {
    return { view: 'contact', id: parts[1], params };
  }
  if (parts.length === 1 && ['contacts', 'import', 'accounts', 'settings', 'new-campaign', 'suppressions', 'tokens']
    .includes(parts[0])) {
    return { view: parts[0], params };
  }
  return { view: 'not-found', params };
}

export const campaignHref = (name) => `#/campaigns/${encodeURIComponent(name)}`;
export const campaignEditHref = (name) => `${campaignHref(name)}/edit`;
// A contact's page, with its invitation in `campaign` when one is given.
export const contactHref = (id, campaign) =>
  (campaign ? `${campaignHref(campaign)}/contacts/${id}` : `#/contacts/${id}`);
