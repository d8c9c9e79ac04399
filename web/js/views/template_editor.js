// The message template editor shared by the create and edit pages: a textarea, and beside it the
// message as the sample contact (Anna Schmidt) would get it, rendered and checked by the server
// (POST /templates/preview: the same check creating or editing the campaign makes). Asks while the
// operator types, debounced; an answer that arrives after a newer one is dropped.

import { api } from '../api.js';
import { debounce, h } from '../ui.js';

const DEBOUNCE_MS = 300;

// Telegram's HTML, as far as the preview shows it: the tags Telegram takes become the same
// elements here, every other node becomes its text. The markup is parsed into an inert document
// (nothing in it loads or runs) and rebuilt node by node; no markup enters the page.
const TAGS = { b: 'b', strong: 'strong', i: 'i', em: 'em', u: 'u', ins: 'ins', s: 's',
  strike: 's', del: 'del', code: 'code', pre: 'pre', blockquote: 'blockquote' };

function rebuild(node) {
  if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const children = [...node.childNodes].map(rebuild).filter(Boolean);
  const tag = node.localName;
  if (TAGS[tag]) return h(TAGS[tag], {}, children);
  if (tag === 'a') {
    const href = node.getAttribute('href') ?? '';
    return /^(https?|tg):/i.test(href)
      ? h('a', { href, rel: 'noopener noreferrer', target: '_blank' }, children)
      : h('span', {}, children);
  }
  if (tag === 'tg-spoiler' || (tag === 'span' && node.getAttribute('class') === 'tg-spoiler')) {
    return h('span', { class: 'spoiler' }, children);
  }
  return h('span', {}, children);
}

export function renderTelegramHtml(html) {
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  return [...parsed.body.childNodes].map(rebuild).filter(Boolean);
}

// context(): {link_mode, shared_link, name} of the form the editor is in, sent with the template.
// onCheck(ok): called with every answer (ok false: the server refused the template).
export function createTemplateEditor({ id, value = '', context = () => ({}), onCheck = () => {} }) {
  const textarea = h('textarea', {
    id, rows: 8, required: true, spellcheck: true, 'aria-describedby': `${id}-status`,
    placeholder: 'Hello {first_name}! Join us: {link}',
  });
  textarea.value = value;
  const status = h('p', { id: `${id}-status`, class: 'muted template-status', 'aria-live': 'polite' });
  const preview = h('div', { class: 'message-preview', 'data-preview': '' });
  const button = h('p', { class: 'muted', hidden: true }, 'The link goes on a \u201cJoin\u201d button under the message (the template has no {link}).');
  let asked = 0;
  let ok = false;

  async function check() {
    const mine = ++asked;
    const draft = { template: textarea.value, ...context() };
    if (!draft.template) {
      ok = false;
      textarea.setAttribute('aria-invalid', 'true');
      status.className = 'error template-status';
      status.textContent = 'The template is empty.';
      preview.replaceChildren();
      button.hidden = true;
      onCheck(false);
      return;
    }
    try {
      const answer = await api.previewTemplate(draft);
      if (mine !== asked) return;  // a newer keystroke asked again
      ok = answer.ok;
      if (answer.ok) {
        textarea.removeAttribute('aria-invalid');
        status.className = 'muted template-status';
        status.textContent = `Up to ${answer.length.toLocaleString()} of ${answer.max_length.toLocaleString()} characters after rendering.`;
        preview.replaceChildren(...renderTelegramHtml(answer.preview));
        button.hidden = !answer.link_button;
      } else {
        textarea.setAttribute('aria-invalid', 'true');
        status.className = 'error template-status';
        status.textContent = answer.error;
        button.hidden = true;
      }
      onCheck(answer.ok);
    } catch (error) {
      if (mine !== asked) return;
      status.className = 'error template-status';
      status.textContent = `The preview failed: ${error.message}`;
    }
  }
  const later = debounce(check, DEBOUNCE_MS);
  textarea.addEventListener('input', later);

  const el = h('div', { class: 'template-editor' },
    h('label', { for: id }, h('span', {}, 'Message template (Telegram HTML; placeholders {first_name} {last_name} {username} {link} {campaign})')),
    textarea, status,
    h('section', { class: 'preview-box', 'aria-labelledby': `${id}-preview-title` },
      h('h3', { id: `${id}-preview-title` }, 'Preview for Anna Schmidt (@anna_schmidt)'),
      preview, button));
  return {
    el,
    textarea,
    get value() { return textarea.value; },
    get ok() { return ok; },
    // Checks again at once (the link mode or the name changed).
    check() { later.cancel(); return check(); },
    dispose() { later.cancel(); asked += 1; },
  };
}
