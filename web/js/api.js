// The REST API client. Keeps the session's CSRF token (the session cookie itself is HttpOnly and
// never seen here) and turns every failure into an ApiError carrying the server's message.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrfToken = '';
let onUnauthorized = () => {};

// Called with no arguments whenever the server answers 401: the session expired or never was.
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

async function call(method, path, { body, contentType, query } = {}) {
  const url = new URL('/api/v1' + path, location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  }
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers['Content-Type'] = contentType ?? 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'the server cannot be reached: is tginvite still running?');
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    // Not JSON (a proxy's error page, say): reported below by status.
  }
  if (!response.ok) {
    const error = data?.error ?? {};
    const apiError = new ApiError(response.status, error.code ?? 'http_error',
      error.message ?? `${method} ${url.pathname}: HTTP ${response.status}`);
    if (response.status === 401 && path !== '/login') {
      csrfToken = '';
      onUnauthorized();
    }
    throw apiError;
  }
  if (data === null) throw new ApiError(response.status, 'bad_response', `${url.pathname}: not JSON`);
  return data;
}

const segment = encodeURIComponent;

export const api = {
  // Session: the CSRF token comes back from login and, after a reload, from GET /session.
  async login(password) {
    const session = await call('POST', '/login', { body: { password } });
    csrfToken = session.csrf_token;
    return session;
  },
  async restoreSession() {
    const session = await call('GET', '/session');
    csrfToken = session.csrf_token;
    return session;
  },
  async logout() {
    try {
      await call('POST', '/logout');
    } finally {
      csrfToken = '';
    }
  },

  campaigns: () => call('GET', '/campaigns'),
  campaign: (name) => call('GET', `/campaigns/${segment(name)}`),
  // {name, account, chat, template, link_mode?, shared_link?, reach?, method?}
  createCampaign: (campaign) => call('POST', '/campaigns', { body: campaign }),
  // Any of {template, chat, link_mode, shared_link, starts_at, ends_at} (times: ISO 8601 with
  // zone, or null to clear).
  editCampaign: (name, changes) => call('PATCH', `/campaigns/${segment(name)}`, { body: changes }),
  // purge: the campaign's attempts go too.
  deleteCampaign: (name, purge) =>
    call('DELETE', `/campaigns/${segment(name)}`, { query: { purge: purge ? 'true' : 'false' } }),
  // {template, link_mode?, shared_link?, name?} -> {ok, preview, length, max_length, link_button}
  // or {ok: false, error}: the server's own check, as the create will make it.
  previewTemplate: (draft) => call('POST', '/templates/preview', { body: draft }),
  // action: start | pause | resume | cancel
  campaignAction: (name, action) => call('POST', `/campaigns/${segment(name)}/${action}`),
  // kind: retry-failed | resend-unknown; the server refuses these without the explicit confirm.
  campaignBulk: (name, kind) =>
    call('POST', `/campaigns/${segment(name)}/${kind}`, { body: { confirm: true } }),
  series: (name, minutes = 60) =>
    call('GET', `/campaigns/${segment(name)}/series`, { query: { minutes } }),
  errors: (name) => call('GET', `/campaigns/${segment(name)}/errors`),
  attempts: (name, limit = 50) =>
    call('GET', `/campaigns/${segment(name)}/attempts`, { query: { limit } }),
  // The campaign's state changes, newest first: who (cli:USER, token:NAME, dashboard:admin, engine).
  events: (name, limit = 20) =>
    call('GET', `/campaigns/${segment(name)}/events`, { query: { limit } }),

  contacts: (query) => call('GET', '/contacts', { query: { limit: 50, ...query } }),
  // With a campaign: the contact's invitation there too (state, start link).
  contact: (id, campaign) => (campaign
    ? call('GET', `/campaigns/${segment(campaign)}/contacts/${segment(id)}`)
    : call('GET', `/contacts/${segment(id)}`)),
  contactAttempts: (id) => call('GET', `/contacts/${segment(id)}/attempts`),
  // An erasure request: the contact, its invitations and links go; its keys stay suppressed.
  forgetContact: (id) => call('DELETE', `/contacts/${segment(id)}`),
  // Addresses the browser loads itself (a download, an image), not through call().
  startLinksCsvUrl: (name, all = false) =>
    `/api/v1/campaigns/${segment(name)}/start-links.csv${all ? '?all=1' : ''}`,
  // The campaign's invitations, the bytes `tginvite export` writes.
  exportCsvUrl: (name) => `/api/v1/campaigns/${segment(name)}/export.csv`,
  startLinkQrUrl: (name, id) =>
    `/api/v1/campaigns/${segment(name)}/contacts/${segment(id)}/start-link.svg`,

  previewImport: (campaign, region, file) =>
    call('POST', '/imports', { query: { campaign, region }, body: file, contentType: 'text/csv' }),
  commitImport: (id) => call('POST', `/imports/${segment(id)}/commit`),

  accounts: () => call('GET', '/accounts'),
  addAccount: (account) => call('POST', '/accounts', { body: account }),
  // A user account's login, one step: {} starts it, then { code } or { password } answers.
  loginAccount: (name, answer) => call('POST', `/accounts/${segment(name)}/login`, { body: answer ?? {} }),

  settings: (campaign) => call('GET', '/settings', { query: { campaign } }),
  setSetting: (key, value, campaign) =>
    call('PUT', `/settings/${segment(key)}`, { query: { campaign }, body: { value } }),
  resetSetting: (key, campaign) =>
    call('DELETE', `/settings/${segment(key)}`, { query: { campaign } }),

  suppressions: () => call('GET', '/suppressions'),
  // user: @username, a numeric user id or +phone.
  addSuppression: (user, reason) => call('POST', '/suppressions', { body: { user, reason } }),
  removeSuppression: (key) => call('DELETE', `/suppressions/${segment(key)}`),

  // API tokens: the admin session only. The secret is in createToken's answer and nowhere else.
  tokens: () => call('GET', '/tokens'),
  createToken: (token) => call('POST', '/tokens', { body: token }),
  revokeToken: (name) => call('DELETE', `/tokens/${segment(name)}`),
};
