// Hash routes, so the server serves only / and /assets/: #/, #/campaigns/NAME, #/contacts,
// #/import, #/accounts, #/settings. Query parameters after a "?" in the hash are passed along.

export function parseRoute(hash = location.hash) {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(query));
  if (parts.length === 0) return { view: 'overview', params };
  if (parts[0] === 'campaigns' && parts.length === 2) {
    return { view: 'campaign', name: parts[1], params };
  }
  if (parts.length === 1 && ['contacts', 'import', 'accounts', 'settings'].includes(parts[0])) {
    return { view: parts[0], params };
  }
  return { view: 'not-found', params };
}

export const campaignHref = (name) => `#/campaigns/${encodeURIComponent(name)}`;
