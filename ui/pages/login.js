import { post } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { href } from '../lib/router.js';
import { currentUser } from '../lib/session.js';
import { field, form } from '../components/form.js';

export const title = 'Log in';

export function render({ query, navigate }) {
  const email = field({ name: 'email', label: 'E-mail address', type: 'email', autocomplete: 'username', value: query.email ?? '', autofocus: !query.email });
  const password = field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', autofocus: Boolean(query.email) });
  const login = form({
    fields: [email, password],
    submitLabel: 'Log in',
    busyLabel: 'Logging in…',
    async onSubmit(values) {
      await post('/api/v1/auth/login', values);
      await currentUser({ refresh: true });
      const next = query.next && query.next.startsWith('/') ? query.next : '/';
      const [path, search] = next.split('?');
      navigate(path, Object.fromEntries(new URLSearchParams(search ?? '')));
    },
    extra: (error) => (error.code === 'not_activated'
      ? h('p', {}, h('a', { href: href('/activate', { email: email.value().trim() }) }, 'Enter the activation code'))
      : null),
  });
  return h('div', {},
    login.element,
    h('p', { class: 'alt-links' },
      h('a', { href: href('/forgot', { email: query.email }) }, 'Forgot your password?'),
      h('span', { 'aria-hidden': 'true' }, ' · '),
      h('a', { href: href('/signup') }, 'Create an account')));
}
