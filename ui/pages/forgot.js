import { post } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { setFlash } from '../lib/flash.js';
import { href } from '../lib/router.js';
import { field, form } from '../components/form.js';

export const title = 'Forgot your password?';

export function render({ query, navigate }) {
  const email = field({ name: 'email', label: 'E-mail address', type: 'email', autocomplete: 'username', value: query.email ?? '', autofocus: true });
  const forgot = form({
    fields: [email],
    submitLabel: 'Send a reset code',
    busyLabel: 'Sending…',
    async onSubmit(values) {
      const answer = await post('/api/v1/auth/password/forgot', values);
      setFlash(answer.message, 'info');
      navigate('/reset', { email: values.email.trim() });
    },
  });
  return h('div', {},
    h('p', { class: 'lead' }, 'We will e-mail you a 6-digit code to choose a new password.'),
    forgot.element,
    h('p', { class: 'alt-links' }, h('a', { href: href('/reset', { email: query.email }) }, 'I already have a code'), h('span', { 'aria-hidden': 'true' }, ' · '), h('a', { href: href('/login') }, 'Back to log in')));
}
