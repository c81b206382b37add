import { h } from '../lib/dom.js';
import { href, navigate } from '../lib/router.js';
import { logout } from '../lib/session.js';
import { setFlash } from '../lib/flash.js';

const brand = () => h('a', { class: 'brand', href: href('/') }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'OC'), 'Open Channel Relay');

/** Logged-in pages: header with navigation and the account, then the page title and content. */
export function appLayout({ me, path, title, navigation, content, wide = false }) {
  const logoutButton = h('button', { type: 'button', class: 'link-button', onclick: async () => {
    logoutButton.disabled = true;
    try {
      await logout();
      setFlash('You are logged out.', 'info');
    } catch {
      setFlash('The relay could not end the session; it ends by itself after 7 days without use. Log in again to retry.', 'error');
    }
    navigate('/login');
  } }, 'Log out');

  return h('div', { class: 'app' },
    h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'),
    h('header', { class: 'topbar' },
      h('div', { class: 'topbar-inner' },
        brand(),
        h('nav', { 'aria-label': 'Main' },
          h('ul', { class: 'nav' }, navigation.map((item) =>
            h('li', {}, h('a', { href: href(item.path), 'aria-current': item.match(path) ? 'page' : null }, item.label))))),
        h('div', { class: 'account' }, h('span', { class: 'account-email', title: me?.email }, me?.email ?? ''), logoutButton))),
    h('main', { id: 'main', class: wide ? 'page' : 'page' },
      title ? h('h1', { tabindex: '-1' }, title) : null,
      content));
}

/** Logged-out pages (sign-up, login, codes): one centred card. */
export function authLayout({ title, content }) {
  return h('div', { class: 'auth' },
    h('header', { class: 'auth-brand' }, brand()),
    h('main', { id: 'main', class: 'card auth-card' },
      title ? h('h1', { tabindex: '-1' }, title) : null,
      content),
    h('footer', { class: 'auth-footer' }, h('a', { href: '/api/docs' }, 'API documentation')));
}

/** A page section with a heading, for pages made of several parts. */
export function section(title, ...children) {
  return h('section', { class: 'section' }, h('h2', {}, title), ...children);
}
