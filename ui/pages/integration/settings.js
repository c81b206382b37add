import { ApiError, del, patch, post } from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { setFlash } from '../../lib/flash.js';
import { errorBanner, notice } from '../../components/banner.js';
import { confirmDialog } from '../../components/confirm.js';
import { copyField } from '../../components/copy-field.js';
import { checkbox, field, form } from '../../components/form.js';
import { section } from '../../components/shell.js';

/** Settings tab: the Reply URL (and a new one), the integration's settings, delete. */
export function settings({ integration, path, rerender, navigate }) {
  const actionResult = h('div', {});
  const showActionError = (error) => replace(actionResult, errorBanner(error instanceof Error ? error.message : String(error)));

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
    actionResult,
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
  const saved = h('div', { 'aria-live': 'polite' });
  const settingsForm = form({
    fields: [name, url, apiKey, removeKey, wallPosts, humanAgentTag, forwardReactions, forwardEdits, signingSecret].filter(Boolean),
    submitLabel: 'Save changes',
    busyLabel: 'Saving…',
    errorFields: {
      invalid_openchannel_url: 'openchannelUrl', openchannel_not_found: 'openchannelUrl', openchannel_unreachable: 'openchannelUrl',
      openchannel_blocked: 'openchannelUrl', openchannel_invalid_url: 'openchannelUrl', openchannel_unexpected: 'openchannelUrl',
      openchannel_unauthorized: 'apiKey',
    },
    async onSubmit(values) {
      replace(saved);
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

  const deleteResult = h('div', {});
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
      replace(deleteResult, errorBanner(error.message));
    }
  } }, 'Delete integration');

  return h('div', { class: 'stack' },
    reply,
    section('Settings', saved, settingsForm.element),
    section('Delete', h('p', {}, 'Removes the integration and its history, and unsubscribes the Page.'), deleteResult, remove));
}
