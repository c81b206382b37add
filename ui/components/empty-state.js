import { h } from '../lib/dom.js';

/**
 * "Nothing here yet" with the first step to take. `action.href` may be a UI route (`#/...`) or a
 * full-page address (`/api/v1/facebook/connect`), which the browser follows as a normal navigation.
 */
export function emptyState({ title, text, action }) {
  return h('div', { class: 'empty-state' },
    h('h2', {}, title),
    text ? h('p', {}, text) : null,
    action ? h('a', { class: 'button primary', href: action.href }, action.label) : null);
}
