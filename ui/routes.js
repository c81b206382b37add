/**
 * Every page of the UI. To add one: write ui/pages/<name>.js exporting `title` and
 * `render(context)`, then add a line here. `public: true` pages are for logged-out visitors
 * (sign-up, login, ...); every other page needs a session and gets the navigation shell.
 */
export const routes = [
  { path: '/', page: () => import('./pages/dashboard.js') },
  { path: '/account', page: () => import('./pages/account.js') },
  { path: '/integrations/new', page: () => import('./pages/integration-new.js') },
  { path: '/integrations/:id', page: () => import('./pages/integration.js') },
  { path: '/integrations/:id/conversations/:conversationId', page: () => import('./pages/conversation.js') },
  { path: '/audit', page: () => import('./pages/audit.js') },
  { path: '/login', page: () => import('./pages/login.js'), public: true },
  { path: '/signup', page: () => import('./pages/signup.js'), public: true },
  { path: '/activate', page: () => import('./pages/activate.js'), public: true },
  { path: '/forgot', page: () => import('./pages/forgot.js'), public: true },
  { path: '/reset', page: () => import('./pages/reset.js'), public: true },
];

/** Entries of the main navigation (logged-in pages). `match` marks the current section. */
export const navigation = [
  { label: 'Integrations', path: '/', match: (path) => path === '/' || path.startsWith('/integrations') },
  { label: 'Audit log', path: '/audit', match: (path) => path.startsWith('/audit') },
  { label: 'Account', path: '/account', match: (path) => path.startsWith('/account') },
];
