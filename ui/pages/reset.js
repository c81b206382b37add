import { post } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { setFlash } from '../lib/flash.js';
import { href } from '../lib/router.js';
import { forgetUser } from '../lib/session.js';
import { field, form } from '../components/form.js';
import { outboxHint } from '../components/outbox-hint.js';

export const title = 'Choose a new password';

export function render({ query, navigate }) {
  const email = field({ name: 'email', label: 'E-mail address', type: 'email', autocomplete: 'username', value: query.email ?? '', autofocus: !query.email });
  const code = field({ name: 'code', label: 'Reset code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 7, autofocus: Boolean(query.email), hint: 'The 6 digits from the e-mail.' });
  const password = field({ name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', maxlength: 128, hint: 'At least 10 characters, not a commonly used password.' });
  const reset = form({
    fields: [email, code, password],
    submitLabel: 'Set new password',
    busyLabel: 'Saving…',
    errorFields: { invalid_code: 'code', code_exhausted: 'code', weak_password: 'password' },
    async onSubmit(values) {
      const answer = await post('/api/v1/auth/password/reset', values);
      forgetUser();
      setFlash(answer.message);
      navigate('/login', { email: values.email.trim() });
    },
  });
  return h('div', {},
    reset.element,
    outboxHint(),
    h('p', { class: 'alt-links' }, h('a', { href: href('/forgot', { email: query.email }) }, 'Send a new code'), h('span', { 'aria-hidden': 'true' }, ' · '), h('a', { href: href('/login') }, 'Back to log in')));
}
