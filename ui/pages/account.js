import { del, post } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { setFlash } from '../lib/flash.js';
import { forgetUser } from '../lib/session.js';
import { notice } from '../components/banner.js';
import { confirmDialog } from '../components/confirm.js';
import { field, form } from '../components/form.js';
import { section } from '../components/shell.js';

export const title = 'Account';

export function render({ me, navigate }) {
  const changed = h('div', {});
  const current = field({ name: 'currentPassword', label: 'Current password', type: 'password', autocomplete: 'current-password' });
  const next = field({ name: 'newPassword', label: 'New password', type: 'password', autocomplete: 'new-password', maxlength: 128, hint: 'At least 10 characters, not a commonly used password. Other browsers logged in to this account are logged out.' });
  const change = form({
    fields: [current, next],
    submitLabel: 'Change password',
    busyLabel: 'Saving…',
    errorFields: { wrong_password: 'currentPassword', weak_password: 'newPassword' },
    async onSubmit(values) {
      await post('/api/v1/me/password', values);
      current.input.value = '';
      next.input.value = '';
      changed.replaceChildren(notice('Your password was changed.'));
    },
  });

  const password = field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', hint: 'To confirm that it is you.' });
  const remove = form({
    fields: [password],
    submitLabel: 'Delete account',
    busyLabel: 'Deleting…',
    danger: true,
    errorFields: { wrong_password: 'password' },
    async onSubmit(values) {
      const sure = await confirmDialog({
        title: 'Delete your account?',
        text: 'All integrations are removed and their Facebook Pages stop sending messages to your contact center. This cannot be undone.',
        confirmLabel: 'Delete account',
        danger: true,
      });
      if (!sure) return;
      await del('/api/v1/me', values);
      forgetUser();
      setFlash('Your account was deleted.', 'info');
      navigate('/login');
    },
  });

  return h('div', { class: 'stack' },
    h('p', { class: 'muted' }, 'Logged in as ', h('strong', {}, me.email)),
    section('Change password', changed, change.element),
    section('Delete account', h('p', {}, 'Removes the account, its integrations and their message history.'), remove.element));
}
