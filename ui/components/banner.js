import { h } from '../lib/dom.js';

/** An error that belongs to a whole form or page (not to one field). Announced to screen readers. */
export function errorBanner(message, ...extra) {
  return h('div', { class: 'banner banner-error', role: 'alert' }, h('p', {}, message), ...extra);
}

/** A success/info message ("Your account is active."). */
export function notice(message, kind = 'success') {
  return h('div', { class: `banner banner-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, h('p', {}, message));
}
