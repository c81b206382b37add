import { h } from '../lib/dom.js';
import { href } from '../lib/router.js';

export const title = 'Page not found';

export function render() {
  return h('div', {}, h('p', {}, 'There is no page at this address.'), h('p', {}, h('a', { href: href('/') }, 'Go to your integrations')));
}
