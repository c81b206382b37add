import { ApiError, get } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { href } from '../lib/router.js';
import { ago, plural } from '../lib/format.js';
import { integrationState, stateExplanation, statusBadge } from '../components/badge.js';
import { emptyState } from '../components/empty-state.js';

export const title = 'Integrations';

/** Facebook Login is a full-page navigation: the relay answers with a redirect to the dialog. */
export const CONNECT_URL = '/api/v1/facebook/connect';

export async function render() {
  let integrations;
  try {
    integrations = await get('/api/v1/integrations');
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    integrations = []; // the integrations API is not part of this relay build yet
  }
  const items = Array.isArray(integrations) ? integrations : integrations?.items ?? [];
  if (!items.length) {
    return emptyState({
      title: 'Connect your first Facebook Page',
      text: 'An integration forwards the messages and comments of one Facebook Page to your contact center, and sends the agents\' replies back. Start by logging in with Facebook and choosing a Page.',
      action: { label: 'Connect Facebook', href: CONNECT_URL },
    });
  }
  return h('div', {},
    h('div', { class: 'toolbar' },
      h('p', { class: 'muted' }, `${items.length} ${items.length === 1 ? 'integration' : 'integrations'}`),
      h('a', { class: 'button primary', href: CONNECT_URL }, 'Connect another Page')),
    h('ul', { class: 'list', 'aria-label': 'Integrations' }, items.map(integrationRow)));
}

function integrationRow(integration) {
  const state = integrationState(integration);
  return h('li', { class: `list-item state-${state}` },
    h('div', { class: 'list-main' },
      h('a', { class: 'list-title', href: href(`/integrations/${encodeURIComponent(integration.id)}`) }, integration.name || integration.pageName || 'Integration'),
      h('p', { class: 'muted' }, `Facebook Page: ${integration.pageName ?? integration.pageId ?? 'unknown'} · last event from Facebook ${ago(integration.lastEventAt)}`),
      state !== 'active' && !(state === 'failing' && integration.failedDeliveries > 0) ? h('p', { class: 'state-explain' }, stateExplanation(state)) : null,
      integration.failedDeliveries > 0
        ? h('p', { class: 'state-explain failed-count' }, `${plural(integration.failedDeliveries, 'failed delivery', 'failed deliveries')} in the last 24 hours — `,
          h('a', { href: href(`/integrations/${encodeURIComponent(integration.id)}`, { tab: 'deliveries' }) }, 'see why and replay'))
        : null),
    h('div', { class: 'list-side' }, statusBadge(state)));
}
