import { ApiError, get, post } from '../lib/api.js';
import { h, replace, uid } from '../lib/dom.js';
import { href } from '../lib/router.js';
import { errorBanner, notice } from '../components/banner.js';
import { copyField } from '../components/copy-field.js';
import { checkbox, field, form } from '../components/form.js';
import { section } from '../components/shell.js';

export const title = 'New integration';

const CONNECT_URL = '/api/v1/facebook/connect';
const REREQUEST_URL = '/api/v1/facebook/connect?rerequest=1';

/**
 * Connect Facebook → pick a Page → fill in the Open Channel account → the Reply URL to copy.
 * The Facebook login comes back here with ?connected=1, or ?error=<code>&message=<words>.
 */
export async function render({ query }) {
  const messages = loginMessages(query);
  const status = await get('/api/v1/facebook/status');
  if (!status.connected) {
    return h('div', { class: 'stack' }, messages,
      section('1. Connect Facebook',
        h('p', {}, 'Log in with the Facebook account that administers the Page you want to connect, and allow every permission the relay asks for.'),
        h('a', { class: 'button primary', href: CONNECT_URL, id: 'connect-facebook' }, 'Connect Facebook')));
  }

  const connected = h('p', {}, 'Connected to Facebook as ', h('strong', {}, status.user.name), '. ',
    h('a', { href: CONNECT_URL }, 'Use another Facebook account'));
  const permissions = status.missingScopes.length
    ? errorBanner(status.missingMessage, h('p', {}, h('a', { class: 'button secondary', href: REREQUEST_URL, id: 'ask-again' }, 'Ask again for the missing permissions')))
    : null;
  const tokenProblem = status.tokenState === 'invalid' || status.tokenState === 'expired'
    ? errorBanner('Facebook no longer accepts this login. Connect Facebook again.', h('p', {}, h('a', { class: 'button primary', href: CONNECT_URL }, 'Connect Facebook again')))
    : null;

  let pages = [];
  let pagesError = null;
  try {
    pages = await get('/api/v1/facebook/pages');
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    pagesError = errorBanner(error.message);
  }

  const result = h('div', {});
  const picker = pagePicker(pages, query.page);
  const name = field({ name: 'name', label: 'Name', maxlength: 100, hint: 'For you: e.g. the Page and the contact center it goes to.' });
  const url = field({ name: 'openchannelUrl', label: 'Openchannel URL', type: 'url', autocomplete: 'off', hint: 'The Receive URL of the Open Channel account (copy it from the account\'s Settings tab). Behind the proxy: https://<proxy>/api/openchannel/accounts/{ID}/notify?token={TOKEN}.' });
  const apiKey = field({ name: 'apiKey', label: 'API key', type: 'password', autocomplete: 'off', required: false, hint: 'The contact center user\'s API key (Staff → Users → API Key Manager). Leave empty for proxy URLs with a token.' });
  const wallPosts = checkbox({ name: 'wallPosts', label: 'Facebook wall post management', checked: true, hint: 'Forward posts and comments on the Page\'s wall as interactions.' });
  const enabled = checkbox({ name: 'enabled', label: 'Enabled', checked: true });

  const create = form({
    fields: [name, picker, url, apiKey, wallPosts, enabled],
    submitLabel: 'Save',
    busyLabel: 'Checking the Openchannel URL…',
    errorFields: {
      invalid_openchannel_url: 'openchannelUrl', openchannel_not_found: 'openchannelUrl', openchannel_unreachable: 'openchannelUrl',
      openchannel_blocked: 'openchannelUrl', openchannel_invalid_url: 'openchannelUrl', openchannel_unexpected: 'openchannelUrl',
      openchannel_unauthorized: 'apiKey', unknown_page: 'pageId', page_unavailable: 'pageId', no_page: 'pageId',
    },
    async onSubmit(values) {
      if (!values.pageId) throw new ApiError(400, { error: 'no_page', message: 'Pick the Facebook Page to connect.' });
      const body = { ...values, apiKey: values.apiKey || undefined };
      const integration = await post('/api/v1/integrations', body);
      replace(result, created(integration));
      create.element.hidden = true;
      result.querySelector('input')?.focus();
    },
  });

  return h('div', { class: 'stack' }, messages, tokenProblem,
    section('1. Facebook', connected, permissions),
    section('2. Page and Open Channel account', pagesError, create.element, result));
}

/** The banner for what the Facebook login came back with. */
function loginMessages(query) {
  if (query.error && query.error !== 'missing_permissions') return errorBanner(query.message || 'The Facebook login did not complete.');
  if (query.connected) return notice('Facebook is connected.');
  return null;
}

/** Radio buttons, one per Page, with its bound / unavailable marks. Behaves like a form field. */
function pagePicker(pages, selected) {
  const id = uid('page');
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const radios = [];
  const items = pages.map((page) => {
    const radioId = uid('page-option');
    const radio = h('input', { type: 'radio', name: 'pageId', id: radioId, value: page.id, disabled: !page.available, checked: page.id === selected && page.available });
    radios.push(radio);
    const marks = [];
    if (page.bound && page.boundTo === 'this_account') {
      marks.push(h('span', { class: 'badge badge-warn' }, 'Bound'), ' ',
        h('span', { class: 'muted' }, 'to your integration ', h('a', { href: href(`/integrations/${page.integrationId}`) }, page.integrationName), ': binding it again moves the Page to the new integration.'));
    } else if (page.bound) {
      marks.push(h('span', { class: 'badge badge-warn' }, 'Bound elsewhere'), ' ', h('span', { class: 'muted' }, 'to another relay account: binding it here moves the Page to this account.'));
    }
    if (!page.available) marks.push(h('span', { class: 'badge badge-bad' }, 'Unavailable'), ' ', h('span', { class: 'muted' }, page.unavailableReason));
    return h('li', { class: 'picker-item' }, radio, h('label', { for: radioId }, page.name, h('span', { class: 'muted' }, ` (${page.id})`)), marks.length ? h('p', { class: 'hint' }, marks) : null);
  });
  const fieldset = h('fieldset', { class: 'field', id, 'aria-describedby': `${id}-error` },
    h('legend', {}, 'Page'),
    pages.length
      ? h('ul', { class: 'list', 'aria-label': 'Your Facebook Pages' }, items)
      : h('p', { class: 'muted' }, 'Facebook shows no Page for this account. Log in with a Page administrator, and keep "pages_show_list" allowed.'),
    error);
  return {
    name: 'pageId',
    element: fieldset,
    input: { required: false, type: 'radio', focus: () => (radios.find((r) => !r.disabled) ?? fieldset).focus(), getAttribute: () => null },
    value: () => radios.find((r) => r.checked)?.value ?? '',
    setError(message) {
      error.textContent = message ?? '';
      error.hidden = !message;
    },
  };
}

function created(integration) {
  return h('div', { class: 'stack' },
    notice(`The integration "${integration.name}" is ready: the Page ${integration.pageName} is connected.`),
    copyField({
      label: 'Reply URL',
      value: integration.replyUrl,
      hint: 'Last step: paste it into the Open Channel account\'s Reply URL (Open Channel Accounts → the account → Reply URL), then save the account there.',
    }),
    h('p', {}, h('a', { class: 'button primary', href: href(`/integrations/${integration.id}`) }, 'Open the integration')));
}
