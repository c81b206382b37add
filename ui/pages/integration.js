import { get } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { href } from '../lib/router.js';
import { integrationState, statusBadge } from '../components/badge.js';
import { tabs } from '../components/tabs.js';
import { overview } from './integration/overview.js';
import { history, SEARCH_KEYS } from './integration/history.js';
import { deliveries } from './integration/deliveries.js';
import { availability } from './integration/availability.js';
import { settings } from './integration/settings.js';

export const title = 'Integration';

const TABS = [
  { id: 'overview', label: 'Overview', render: overview },
  { id: 'history', label: 'History', render: history },
  { id: 'deliveries', label: 'Deliveries', render: deliveries },
  { id: 'availability', label: 'Availability', render: availability },
  { id: 'settings', label: 'Settings', render: settings },
];

/**
 * One integration in tabs. The open tab and the history search live in the address
 * (`#/integrations/42?tab=history&q=refund`), written with replaceState so switching tabs neither
 * reloads the page nor fills the Back button.
 */
export async function render({ params, query, navigate }) {
  const id = params.id;
  const path = `/api/v1/integrations/${encodeURIComponent(id)}`;
  const integration = await get(path);
  const rerender = () => window.dispatchEvent(new Event('relay:rerender'));
  const state = { ...query };
  const setQuery = (changes) => {
    Object.assign(state, changes);
    window.history.replaceState(null, '', href(`/integrations/${encodeURIComponent(id)}`, state));
  };

  let view;
  const context = {
    integration, path, query, navigate, rerender, setQuery,
    selectTab: (tab) => view.select(tab, { focus: true }),
    onChange: () => undefined,
  };
  view = tabs({
    label: 'Integration sections',
    selected: query.tab,
    tabs: TABS.map((tab) => ({ ...tab, render: () => tab.render(context) })),
    onSelect(tab) {
      // The history search belongs to the History tab only.
      const keep = tab === 'history' ? state : Object.fromEntries(Object.entries(state).filter(([key]) => !SEARCH_KEYS.includes(key)));
      Object.keys(state).forEach((key) => { if (!(key in keep)) delete state[key]; });
      setQuery({ tab: tab === 'overview' ? undefined : tab });
    },
  });

  return h('div', { class: 'stack' },
    h('div', { class: 'page-head' },
      h('p', { class: 'lead' }, integration.name),
      statusBadge(integrationState(integration))),
    view.element);
}
