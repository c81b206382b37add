import { post } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { setFlash } from '../lib/flash.js';
import { href } from '../lib/router.js';
import { field, form } from '../components/form.js';

export const title = 'Create an account';

export function render({ navigate }) {
  const email = field({ name: 'email', label: 'E-mail address', type: 'email', autocomplete: 'email', autofocus: true, maxlength: 254 });
  const password = field({
    name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', maxlength: 128,
    hint: 'At least 10 characters. Common passwords are refused; a few unrelated words work well.',
  });
  const signup = form({
    fields: [email, password],
    submitLabel: 'Create account',
    busyLabel: 'Creating…',
    errorFields: { weak_password: 'password' },
    async onSubmit(values) {
      const answer = await post('/api/v1/auth/register', values);
      setFlash(answer.message);
      navigate('/activate', { email: values.email.trim() });
    },
  });
  return h('div', {},
    h('p', { class: 'lead' }, 'Connect your Facebook Pages to your contact center. We will e-mail you a code to activate the account.'),
    signup.element,
    h('p', { class: 'alt-links' }, 'Already have an account? ', h('a', { href: href('/login') }, 'Log in')));
}
