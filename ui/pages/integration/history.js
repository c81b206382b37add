import { get } from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { href } from '../../lib/router.js';
import { ago, isMissingEndpoint, localTime, plural } from '../../lib/format.js';
import { errorBanner, notice } from '../../components/banner.js';
import { field, form } from '../../components/form.js';

export const SEARCH_KEYS = ['from', 'to', 'customer', 'q', 'page'];
const PAGE_SIZE = 20;

/**
 * History tab: search the integration's conversations by date range, customer and text; the
 * results are paged and every search is kept in the address, so Back from a conversation returns to it.
 */
export function history({ integration, query, setQuery }) {
  const search = Object.fromEntries(SEARCH_KEYS.map((key) => [key, query[key] ?? '']));
  const from = field({ name: 'from', label: 'From', type: 'date', value: search.from, required: false, hint: 'From the start of that day.' });
  const to = field({ name: 'to', label: 'To', type: 'date', value: search.to, required: false, hint: 'Includes that whole day.' });
  const customer = field({ name: 'customer', label: 'Customer', value: search.customer, required: false, maxlength: 200, hint: 'Name or Facebook id.' });
  const text = field({ name: 'q', label: 'Text', type: 'search', value: search.q, required: false, maxlength: 200, hint: 'Words in a message.' });
  const status = h('p', { class: 'results-status', role: 'status', 'aria-live': 'polite' });
  const results = h('div', { class: 'results' });

  const searchForm = form({
    fields: [from, to, customer, text],
    submitLabel: 'Search',
    busyLabel: 'Searching…',
    secondary: h('button', { type: 'button', class: 'secondary', onclick: () => {
      for (const f of [from, to, customer, text]) f.input.value = '';
      searchForm.clearErrors();
      void run({ from: '', to: '', customer: '', q: '', page: '' });
    } }, 'Clear'),
    async onSubmit(values) {
      if (values.from && values.to && values.from > values.to) {
        to.setError('The end date is before the start date.');
        return;
      }
      await run({ ...values, page: '' });
    },
  });
  searchForm.element.classList.add('search-form');

  /** Runs a search; errors are thrown to the form so they show under the field they concern. */
  async function run(next) {
    Object.assign(search, next);
    setQuery(search);
    replace(status, 'Searching…');
    const page = Number(search.page) || 1;
    const params = new URLSearchParams({ integrationId: integration.id, page: String(page), pageSize: String(PAGE_SIZE) });
    if (search.from) params.set('from', localDayStart(search.from));
    if (search.to) params.set('to', localDayStart(search.to, 1));
    if (search.customer.trim()) params.set('customer', search.customer.trim());
    if (search.q.trim()) params.set('q', search.q.trim());
    let answer;
    try {
      answer = await get(`/api/v1/conversations?${params}`);
    } catch (error) {
      replace(status);
      if (isMissingEndpoint(error)) {
        replace(results, notice('Searching conversations is not available on this relay yet.', 'info'));
        return;
      }
      replace(results);
      throw error;
    }
    const pages = Math.max(1, Math.ceil(answer.total / PAGE_SIZE));
    replace(status, answer.total ? `${plural(answer.total, 'conversation')} found. Page ${page} of ${pages}.` : 'No conversation matches this search.');
    replace(results, answer.items.length ? conversationList(integration, answer.items, search) : null,
      pages > 1 ? pager(page, pages, (target) => run({ page: String(target) }).catch(showError)) : null);
  }
  const showError = (error) => replace(results, errorBanner(error.message));

  run({}).catch((error) => searchForm.showError(error));
  return h('div', { class: 'stack' },
    h('section', { class: 'section', 'aria-labelledby': 'history-search' }, h('h2', { id: 'history-search' }, 'Search conversations'), searchForm.element),
    h('section', { class: 'section', 'aria-labelledby': 'history-results' }, h('h2', { id: 'history-results' }, 'Conversations'), status, results));
}

/** Midnight of a local calendar day (plus `days`) as an ISO instant: "to" includes its whole day. */
function localDayStart(day, days = 0) {
  const [year, month, date] = day.split('-').map(Number);
  return new Date(year, month - 1, date + days).toISOString();
}

function conversationList(integration, items, search) {
  const back = Object.fromEntries(Object.entries(search).filter(([, v]) => v));
  return h('ul', { class: 'list conversation-list', 'aria-label': 'Conversations found' }, items.map((c) => {
    const who = c.customerName || c.customerId;
    return h('li', { class: 'list-item conversation-item' },
      h('div', { class: 'list-main' },
        h('a', { class: 'list-title', href: href(`/integrations/${encodeURIComponent(integration.id)}/conversations/${encodeURIComponent(c.id)}`, back) }, who),
        h('p', { class: 'muted' }, c.channel === 'wall' ? `Wall post ${c.threadId}` : 'Messenger', ' · ', plural(c.messageCount, 'message'),
          c.customerName ? ` · id ${c.customerId}` : ''),
        c.lastText ? h('p', { class: 'conversation-snippet' }, c.lastText) : null),
      h('div', { class: 'list-side' }, h('time', { datetime: c.lastMessageAt, title: localTime(c.lastMessageAt) }, ago(c.lastMessageAt))));
  }));
}

function pager(page, pages, go) {
  return h('nav', { class: 'pager', 'aria-label': 'Result pages' },
    h('button', { type: 'button', class: 'secondary', disabled: page <= 1, onclick: () => go(page - 1) }, '← Previous'),
    h('span', { class: 'muted' }, `Page ${page} of ${pages}`),
    h('button', { type: 'button', class: 'secondary', disabled: page >= pages, onclick: () => go(page + 1) }, 'Next →'));
}
