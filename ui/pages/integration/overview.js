import { get, patch } from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { setFlash } from '../../lib/flash.js';
import { ago, isMissingEndpoint, plural } from '../../lib/format.js';
import { errorBanner, notice } from '../../components/banner.js';
import { stateExplanation } from '../../components/badge.js';
import { trafficChart } from '../../components/chart.js';
import { section } from '../../components/shell.js';

/** Overview tab: the state (token light, enable/disable, re-activate) and the health figures with the chart. */
export function overview({ integration, path, query, rerender, selectTab }) {
  const reactivateUrl = `/api/v1/facebook/connect?reactivate=${encodeURIComponent(integration.id)}`;
  const actionResult = h('div', {});
  const showActionError = (error) => replace(actionResult, errorBanner(error instanceof Error ? error.message : String(error)));

  const tokenLight = integration.tokenActive
    ? h('span', { class: 'badge badge-ok', id: 'token-state' }, 'Active token')
    : h('span', { class: 'badge badge-bad', id: 'token-state' }, 'Active token: needs re-authorization');

  const reactivate = h('a', { class: 'button primary', href: reactivateUrl, id: 'reactivate' }, 'Re-activate with Facebook');
  const problem = integration.status === 'reauth_required'
    ? errorBanner(`Facebook no longer accepts this integration's token. ${integration.statusReason ?? ''} Messages are still received, but replies cannot be sent until you re-activate it.`, h('p', {}, reactivate))
    : integration.status === 'superseded'
      ? errorBanner(`${integration.statusReason ?? stateExplanation('superseded')} Re-activating takes the Page back.`, h('p', {}, reactivate))
      : integration.status === 'unsubscribed'
        ? errorBanner(`${integration.statusReason ?? stateExplanation('unsubscribed')}`, h('p', {}, reactivate))
        : integration.statusReason
          ? notice(integration.statusReason, 'info')
          : null;

  const fromLogin = query.reactivated
    ? notice('The integration was re-activated with Facebook: its token is fresh and the Page is subscribed again.')
    : query.error
      ? errorBanner(query.message || 'The re-activation did not complete.')
      : null;

  const toggle = h('button', { type: 'button', class: 'secondary', id: 'toggle-enabled', onclick: async () => {
    toggle.disabled = true;
    try {
      await patch(path, { enabled: !integration.enabled });
      setFlash(integration.enabled ? 'The integration is disabled: Facebook events are still stored, but not forwarded; replies are refused.' : 'The integration is enabled.');
      rerender();
    } catch (error) {
      toggle.disabled = false;
      showActionError(error);
    }
  } }, integration.enabled ? 'Disable' : 'Enable');
  const refresh = h('button', { type: 'button', class: 'secondary', onclick: rerender }, 'Refresh');

  const state = section('State',
    h('p', {}, tokenLight, ' ', integration.enabled ? null : h('span', { class: 'muted' }, 'Disabled: events are stored but not forwarded; replies are refused.')),
    h('p', { class: 'muted' }, `Facebook Page: ${integration.pageName} (${integration.pageId}). Wall posts: ${integration.wallPosts ? 'on' : 'off'}.`),
    problem,
    actionResult,
    h('div', { class: 'form-actions' }, toggle, integration.status === 'active' ? h('a', { class: 'button secondary', href: reactivateUrl }, 'Re-activate with Facebook') : null, refresh));

  return h('div', { class: 'stack' }, fromLogin, state, healthSection({ integration, path, reactivateUrl, selectTab, initialWindow: query.window === '7d' ? '7d' : '24h' }));
}

function healthSection({ integration, path, reactivateUrl, selectTab, initialWindow }) {
  const figures = h('div', { class: 'health-figures' }, h('p', { class: 'loading' }, 'Loading the figures…'));
  const chartSlot = h('div', { class: 'chart-slot', 'aria-live': 'polite' });
  let current = initialWindow;
  const switchButtons = ['24h', '7d'].map((window) => h('button', {
    type: 'button', class: 'segment', 'aria-pressed': String(window === current), dataset: { window },
    onclick: () => load(window),
  }, window === '24h' ? 'Last 24 hours' : 'Last 7 days'));

  async function load(window) {
    current = window;
    switchButtons.forEach((button) => button.setAttribute('aria-pressed', String(button.dataset.window === window)));
    replace(chartSlot, h('p', { class: 'loading' }, 'Loading the chart…'));
    let health;
    try {
      health = await get(`${path}/health?window=${window}`);
    } catch (error) {
      replace(figures, healthFigures(integration, null, { reactivateUrl, selectTab }));
      replace(chartSlot, isMissingEndpoint(error)
        ? notice('Failure counts, the backlog and the traffic chart are not available on this relay yet.', 'info')
        : errorBanner(`The health figures could not be loaded: ${error.message}`));
      return;
    }
    replace(figures, healthFigures(integration, health, { reactivateUrl, selectTab }));
    replace(chartSlot, health.buckets?.length ? trafficChart({ buckets: health.buckets, window: health.window ?? window })
      : h('p', { class: 'muted' }, 'No traffic in this period.'));
  }
  void load(current);

  return h('section', { class: 'section', 'aria-labelledby': 'health-title' },
    h('h2', { id: 'health-title' }, 'Health'),
    figures,
    h('div', { class: 'chart-header' },
      h('h3', {}, 'Messages and delivery time'),
      h('div', { class: 'segmented', role: 'group', 'aria-label': 'Period' }, switchButtons)),
    chartSlot);
}

/** The figures in words: what is wrong and what happens about it. */
function healthFigures(integration, health, { reactivateUrl, selectTab }) {
  const tokenOk = health ? health.tokenState === 'active' : integration.tokenActive;
  const subscribed = health ? health.pageSubscribed : integration.pageSubscribed;
  const rows = [
    ['Token', tokenOk
      ? h('span', { class: 'figure-ok' }, 'active')
      : h('span', { class: 'figure-bad' }, 'needs re-authorization — ', h('a', { href: reactivateUrl }, 'Re-activate'))],
    ['Page subscription', subscribed
      ? h('span', { class: 'figure-ok' }, 'on')
      : h('span', { class: 'figure-warn' }, 'off — the relay will re-subscribe')],
    ['Last event from Facebook', timeOf(health?.lastEventAt ?? integration.lastEventAt)],
    ['Last successful delivery', timeOf(health?.lastDeliveryAt ?? integration.lastDeliveryAt)],
  ];
  if (health) {
    const failures = health.failuresLastHour;
    rows.push(['Failures in the last hour', failures > 0
      ? [h('span', { class: 'figure-bad' }, String(failures)), ' ', h('button', { type: 'button', class: 'link-button figure-link', onclick: () => selectTab('deliveries') }, 'See why')]
      : h('span', { class: 'figure-ok' }, '0')]);
    rows.push(['Backlog', health.backlog > 0 ? h('span', { class: 'figure-warn' }, `${health.backlog} waiting`) : h('span', { class: 'figure-ok' }, 'nothing waiting')]);
  }
  return h('dl', { class: 'figures' }, rows.map(([term, value]) => h('div', { class: 'figure' }, h('dt', {}, term), h('dd', {}, value))),
    health?.failing ? h('p', { class: 'figure-note figure-bad' }, `Deliveries to the contact center are failing: ${plural(health.failuresLastHour, 'failure')} in the last hour.`) : null);
}

function timeOf(iso) {
  return iso ? h('time', { datetime: iso, title: new Date(iso).toLocaleString() }, ago(iso)) : h('span', { class: 'muted' }, 'never');
}
