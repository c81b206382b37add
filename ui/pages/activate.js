import { post } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { setFlash } from '../lib/flash.js';
import { href } from '../lib/router.js';
import { notice } from '../components/banner.js';
import { field, form } from '../components/form.js';
import { outboxHint } from '../components/outbox-hint.js';

export const title = 'Activate your account';

export function render({ query, navigate }) {
  const email = field({ name: 'email', label: 'E-mail address', type: 'email', autocomplete: 'username', value: query.email ?? '', autofocus: !query.email });
  const code = field({
    name: 'code', label: 'Activation code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 7, autofocus: Boolean(query.email),
    hint: 'The 6 digits from the e-mail we sent you. A code works for 15 minutes.',
  });
  const resendStatus = h('div', { class: 'resend-status' });
  const activate = form({
    fields: [email, code],
    submitLabel: 'Activate',
    busyLabel: 'Checking…',
    errorFields: { invalid_code: 'code', code_exhausted: 'code' },
    async onSubmit(values) {
      const answer = await post('/api/v1/auth/activate', values);
      setFlash(answer.message);
      navigate('/login', { email: values.email.trim() });
    },
  });
  const resend = h('button', { type: 'button', class: 'link-button', onclick: async () => {
    activate.clearErrors();
    if (!email.value().trim()) {
      email.setError('Enter your e-mail address first.');
      email.input.focus();
      return;
    }
    resend.disabled = true;
    try {
      const answer = await post('/api/v1/auth/resend-code', { email: email.value() });
      replace(resendStatus, notice(answer.message, 'info'));
    } catch (error) {
      activate.showError(error);
    } finally {
      resend.disabled = false;
    }
  } }, 'Send a new code');
  return h('div', {},
    activate.element,
    outboxHint(),
    resendStatus,
    h('p', { class: 'alt-links' }, 'No e-mail? ', resend, h('span', { 'aria-hidden': 'true' }, ' · '), h('a', { href: href('/login') }, 'Log in')));
}
