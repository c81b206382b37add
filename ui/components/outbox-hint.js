import { h } from '../lib/dom.js';

/**
 * Without SMTP the relay keeps its mails in the sandbox outbox; say so where a code is expected.
 * Shows nothing when the outbox is not available (SMTP configured or production).
 */
export function outboxHint() {
  const slot = h('p', { class: 'hint outbox-hint', hidden: true });
  fetch('/sandbox/outbox/messages', { credentials: 'same-origin' }).then((response) => {
    if (!response.ok) return;
    slot.append('This relay runs without an e-mail server: read the code in the ', h('a', { href: '/sandbox/outbox' }, 'sandbox outbox'), '.');
    slot.hidden = false;
  }).catch(() => undefined);
  return slot;
}
