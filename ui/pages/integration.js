import { ApiError, del, get, patch, post } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { setFlash } from '../lib/flash.js';
import { errorBanner, notice } from '../components/banner.js';
import { integrationState, stateExplanation, statusBadge } from '../components/badge.js';
import { confirmDialog } from '../components/confirm.js';
import { copyField } from '../components/copy-field.js';
import { checkbox, field, form } from '../components/form.js';
import { section } from '../components/shell.js';

export const title = 'Integration';

/** One integration: its state (the "active token" light), re-activation, the Reply URL, settings, delete. */
export async function render({ params, query, navigate }) {
  const id = params.id;
  const path = `/api/v1/integrations/${encodeURIComponent(id)}`;
  const integration = await get(path);
  const reactivateUrl = `/api/v1/facebook/connect?reactivate=${encodeURIComponent(id)}`;
  const rerender = () => window.dispatchEvent(new Event('relay:rerender'));
  const actionResult = h('div', {});
  const showActionError = (error) => replace(actionResult, errorBanner(error instanceof Error ? error.message : String(error)));

  const state = integrationState(integration);
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

  const overview = section('State',
    h('p', {}, statusBadge(state), ' ', tokenLight, ' ', integration.enabled ? null : h('span', { class: 'muted' }, 'Disabled: events are stored but not forwarded; replies are refused.')),
    h('p', { class: 'muted' }, `Facebook Page: ${integration.pageName} (${integration.pageId}). Wall posts: ${integration.wallPosts ? 'on' : 'off'}.`),
    h('p', { class: 'muted' }, `Last checked with Facebook: ${when(integration.lastCheckedAt)}. Last event: ${when(integration.lastEventAt)}. Last delivery: ${when(integration.lastDeliveryAt)}.`),
    problem,
    actionResult,
    h('div', { class: 'form-actions' }, toggle, integration.status === 'active' ? h('a', { class: 'button secondary', href: reactivateUrl }, 'Re-activate with Facebook') : null, refresh));

  const rotate = h('button', { type: 'button', class: 'secondary', id: 'rotate-token', onclick: async () => {
    const sure = await confirmDialog({
      title: 'Issue a new Reply URL?',
      text: 'The current Reply URL stops working at once: agents\' replies fail until you paste the new one into the Open Channel account.',
      confirmLabel: 'Issue a new Reply URL',
      danger: true,
    });
    if (!sure) return;
    try {
      await post(`${path}/rotate-reply-token`);
      setFlash('A new Reply URL was issued: paste it into the Open Channel account now.');
      rerender();
    } catch (error) {
      showActionError(error);
    }
  } }, 'Issue a new Reply URL');

  const reply = section('Reply URL',
    copyField({ label: 'Reply URL', value: integration.replyUrl, secret: true, hint: 'Paste it into the Open Channel account\'s Reply URL, so agents\' replies reach Facebook. Keep it secret: it works without a password.' }),
    h('div', { class: 'form-actions' }, rotate));

  const name = field({ name: 'name', label: 'Name', value: integration.name, maxlength: 100 });
  const url = field({ name: 'openchannelUrl', label: 'Openchannel URL', type: 'url', value: integration.openchannelUrl, hint: 'Secret parts are shown as ***; leave them as they are to keep them. A changed URL is checked before it is saved.' });
  const apiKey = field({ name: 'apiKey', label: 'API key', type: 'password', required: false, autocomplete: 'off', hint: integration.hasApiKey ? 'An API key is saved. Leave empty to keep it; type a new one to replace it.' : 'No API key is saved.' });
  const removeKey = integration.hasApiKey ? checkbox({ name: 'removeApiKey', label: 'Remove the saved API key' }) : null;
  const wallPosts = checkbox({ name: 'wallPosts', label: 'Facebook wall post management', checked: integration.wallPosts });
  const humanAgentTag = checkbox({ name: 'humanAgentTag', label: 'Allow replies up to 7 days after the customer\'s last message (HUMAN_AGENT tag)', checked: integration.humanAgentTag });
  const forwardReactions = checkbox({ name: 'forwardReactions', label: 'Forward reactions (👍, ❤️ …) as notes', checked: integration.forwardReactions });
  const forwardEdits = checkbox({ name: 'forwardEdits', label: 'Forward edited messages', checked: integration.forwardEdits });
  const signingSecret = field({ name: 'signingSecret', label: 'Signing secret', type: 'password', required: false, autocomplete: 'off', hint: integration.hasSigningSecret ? 'A signing secret is saved. Leave empty to keep it.' : 'Optional: notifications to the contact center are signed with it.' });
  const saved = h('div', {});
  const settings = form({
    fields: [name, url, apiKey, removeKey, wallPosts, humanAgentTag, forwardReactions, forwardEdits, signingSecret].filter(Boolean),
    submitLabel: 'Save changes',
    busyLabel: 'Saving…',
    errorFields: {
      invalid_openchannel_url: 'openchannelUrl', openchannel_not_found: 'openchannelUrl', openchannel_unreachable: 'openchannelUrl',
      openchannel_blocked: 'openchannelUrl', openchannel_invalid_url: 'openchannelUrl', openchannel_unexpected: 'openchannelUrl',
      openchannel_unauthorized: 'apiKey',
    },
    async onSubmit(values) {
      const body = {
        name: values.name,
        openchannelUrl: values.openchannelUrl,
        wallPosts: values.wallPosts,
        humanAgentTag: values.humanAgentTag,
        forwardReactions: values.forwardReactions,
        forwardEdits: values.forwardEdits,
      };
      if (values.removeApiKey) body.apiKey = null;
      else if (values.apiKey) body.apiKey = values.apiKey;
      if (values.signingSecret) body.signingSecret = values.signingSecret;
      await patch(path, body);
      apiKey.input.value = '';
      signingSecret.input.value = '';
      replace(saved, notice('Saved.'));
    },
  });

  const remove = h('button', { type: 'button', class: 'danger', id: 'delete-integration', onclick: async () => {
    const sure = await confirmDialog({
      title: `Delete "${integration.name}"?`,
      text: 'The Page is unsubscribed from the relay, and the integration is deleted with its conversations, messages and files. The Reply URL stops working. This cannot be undone.',
      confirmLabel: 'Delete integration',
      danger: true,
    });
    if (!sure) return;
    try {
      await del(path);
      setFlash(`The integration "${integration.name}" was deleted.`, 'info');
      navigate('/');
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return navigate('/');
      showActionError(error);
    }
  } }, 'Delete integration');

  return h('div', { class: 'stack' },
    h('p', { class: 'lead' }, integration.name),
    fromLogin,
    overview,
    reply,
    section('Settings', saved, settings.element),
    section('Delete', h('p', {}, 'Removes the integration and its history, and unsubscribes the Page.'), remove));
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : 'never';
}
