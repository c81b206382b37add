import { h } from '../lib/dom.js';

const STATES = {
  active: { label: 'Active', tone: 'ok', explain: 'Messages flow both ways.' },
  reauth: { label: 'Needs re-authorization', tone: 'warn', explain: 'The Page token no longer works: reconnect Facebook to renew it.' },
  disabled: { label: 'Disabled', tone: 'muted', explain: 'Switched off: nothing is forwarded.' },
  failing: { label: 'Failing deliveries', tone: 'bad', explain: 'Recent messages could not be delivered; see the history.' },
  superseded: { label: 'Superseded', tone: 'muted', explain: 'Another integration now owns this Page.' },
  unsubscribed: { label: 'Unsubscribed', tone: 'warn', explain: 'The Page no longer sends events to the relay.' },
};

/**
 * The one state shown for an integration, most urgent first. Reads `status`
 * ('active'|'reauth_required'|'unsubscribed'|'superseded'), `enabled`, and failing deliveries
 * from `failing` (boolean) or `failedDeliveries` / `failedCount` (number).
 */
export function integrationState(integration) {
  if (integration.status === 'superseded') return 'superseded';
  if (integration.status === 'reauth_required') return 'reauth';
  if (integration.enabled === false) return 'disabled';
  if (integration.status === 'unsubscribed') return 'unsubscribed';
  if (integration.failing === true || integration.failedDeliveries > 0 || integration.failedCount > 0) return 'failing';
  return 'active';
}

/** A coloured badge with its meaning in words (text, not colour alone). */
export function statusBadge(state) {
  const known = STATES[state] ?? { label: state, tone: 'muted', explain: '' };
  return h('span', { class: `badge badge-${known.tone}`, title: known.explain }, known.label);
}

export function stateExplanation(state) {
  return STATES[state]?.explain ?? '';
}
