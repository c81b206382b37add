import { ApiError } from './lib/api.js';
import { replace } from './lib/dom.js';
import { takeFlash } from './lib/flash.js';
import { matchRoute, navigate, parseLocation } from './lib/router.js';
import { currentUser } from './lib/session.js';
import { authLayout, appLayout } from './components/shell.js';
import { errorBanner, notice } from './components/banner.js';
import { navigation, routes } from './routes.js';

const root = document.getElementById('app');
let renderId = 0;

/** Renders the page for the current URL fragment into the shell that fits it. */
async function render() {
  const id = ++renderId;
  const { path, query } = parseLocation();
  const found = matchRoute(routes, path);
  const me = await currentUser().catch(() => null);
  if (id !== renderId) return;

  if (found && !found.route.public && !me) {
    navigate('/login', path === '/' ? {} : { next: `${path}${window.location.hash.includes('?') ? `?${window.location.hash.split('?')[1]}` : ''}` });
    return;
  }
  if (found?.route.public && me && path !== '/reset') {
    navigate('/');
    return;
  }

  const flash = takeFlash();
  let module;
  let content;
  try {
    module = found ? await found.route.page() : await import('./pages/not-found.js');
    content = await module.render({ params: found?.params ?? {}, query, me, navigate });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      navigate('/login', { next: path });
      return;
    }
    module = { title: 'Something went wrong' };
    content = errorBanner(error instanceof ApiError ? error.message : `The page could not be shown: ${error.message}`);
  }
  if (id !== renderId) return;

  const title = typeof module.title === 'function' ? module.title(found?.params ?? {}) : module.title;
  document.title = title ? `${title} · Open Channel Relay` : 'Open Channel Relay';
  const page = [flash ? notice(flash.text, flash.kind) : null, content];
  const isPublic = found ? found.route.public : !me;
  const layout = isPublic ? authLayout({ title, content: page }) : appLayout({ me, path, title, navigation, content: page, wide: module.wide });
  replace(root, layout);
  const focusTarget = root.querySelector('[autofocus]') ?? root.querySelector('h1');
  focusTarget?.focus({ preventScroll: false });
}

window.addEventListener('hashchange', () => void render());
window.addEventListener('relay:rerender', () => void render());
void render();
