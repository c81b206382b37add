import { h, uid } from '../lib/dom.js';

/** A read-only value (e.g. the Reply URL) with a Copy button that says when it worked. */
export function copyField({ label, value, hint, secret = false }) {
  const id = uid('copy');
  const input = h('input', { id, type: 'text', readonly: true, value, class: secret ? 'mono secret' : 'mono', spellcheck: 'false' });
  const status = h('span', { class: 'copy-status', role: 'status' });
  const button = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      input.select();
      document.execCommand?.('copy');
    }
    status.textContent = 'Copied';
    setTimeout(() => { status.textContent = ''; }, 2500);
  } }, 'Copy');
  input.addEventListener('focus', () => input.select());
  return h('div', { class: 'field copy-field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint' }, hint) : null,
    h('div', { class: 'copy-row' }, input, button, status));
}
