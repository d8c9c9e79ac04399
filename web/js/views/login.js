import { api } from '../api.js';
import { errorBox, h } from '../ui.js';

export async function render(root, { onLogin }) {
  const password = h('input', { type: 'password', id: 'password', name: 'password',
    autocomplete: 'current-password', required: true });
  const message = h('div');
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h('form', { class: 'card login', onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    message.replaceChildren();
    try {
      await api.login(password.value);
      onLogin();
    } catch (error) {
      message.replaceChildren(errorBox(error));
      password.select();
    } finally {
      submit.disabled = false;
    }
  } },
  h('h1', {}, 'Log in'),
  // There is one user; the hidden name lets password managers file the password correctly.
  h('input', { type: 'text', name: 'username', autocomplete: 'username', value: 'admin', hidden: true }),
  h('label', { for: 'password' }, 'Admin password'),
  password, message, submit);
  root.replaceChildren(form);
  password.focus();
  return {};
}
