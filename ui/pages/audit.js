import { get } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { href } from '../lib/router.js';
import { isMissingEndpoint, localTime, plural } from '../lib/format.js';
import { notice } from '../components/banner.js';
import { emptyState } from '../components/empty-state.js';

export const title = 'Audit log';

const PAGE_SIZE = 50;

const ACTIONS = {
  'integration.created': 'Created the integration',
  'integration.changed': 'Changed the integration',
  'integration.deleted': 'Deleted the integration',
  'integration.reauthorized': 'Re-activated the integration with Facebook',
  'integration.reply_token_rotated': 'Issued a new Reply URL',
  'message.replayed': 'Replayed a failed message',
  'messages.replayed_bulk': 'Replayed all failed messages',
};

const FIELDS = {
  name: 'name', openchannelUrl: 'Openchannel URL', apiKey: 'API key', signingSecret: 'signing secret', wallPosts: 'wall posts',
  enabled: 'on/off', humanAgentTag: 'HUMAN_AGENT tag', forwardReactions: 'reactions', forwardEdits: 'edits', availability: 'opening hours',
};

/** Who did what and when, newest first. */
export async function render({ query }) {
  const page = Math.max(1, Number(query.page) || 1);
  let answer;
  try {
    answer = await get(`/api/v1/audit?page=${page}&pageSize=${PAGE_SIZE}`);
  } catch (error) {
    if (!isMissingEndpoint(error)) throw error;
    return notice('The audit log is not available on this relay yet.', 'info');
  }
  if (!answer.total) {
    return emptyState({ title: 'Nothing recorded yet', text: 'Changes to your integrations and replayed messages appear here, with who made them and when.' });
  }
  const pages = Math.max(1, Math.ceil(answer.total / PAGE_SIZE));
  const status = h('p', { class: 'muted' }, `${plural(answer.total, 'entry', 'entries')}, newest first. Times in your time zone.`);
  return h('div', { class: 'stack' },
    status,
    h('div', { class: 'table-scroll section-table' }, h('table', { class: 'table audit-table' },
      h('caption', {}, `Actions on this account, page ${page} of ${pages}`),
      h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Integration'].map((head) => h('th', { scope: 'col' }, head)))),
      h('tbody', {}, answer.items.map((item) => h('tr', {},
        h('td', {}, h('time', { datetime: item.at }, localTime(item.at))),
        h('td', {}, item.actor),
        h('td', {}, describe(item)),
        h('td', {}, item.integrationId
          ? (item.action === 'integration.deleted' ? item.integrationName ?? '' : h('a', { href: href(`/integrations/${encodeURIComponent(item.integrationId)}`) }, item.integrationName ?? 'integration'))
          : '')))))),
    pages > 1 ? h('nav', { class: 'pager', 'aria-label': 'Audit log pages' },
      page > 1 ? h('a', { class: 'button secondary', href: href('/audit', { page: page - 1 }) }, '← Newer') : h('span', {}),
      h('span', { class: 'muted' }, `Page ${page} of ${pages}`),
      page < pages ? h('a', { class: 'button secondary', href: href('/audit', { page: page + 1 }) }, 'Older →') : h('span', {})) : null);
}

/** The action in words, with the changed fields or the count when there are some. */
function describe(item) {
  const words = ACTIONS[item.action] ?? item.action;
  const details = item.details ?? {};
  const fields = Array.isArray(details.fields) ? details.fields : Array.isArray(details.changed) ? details.changed : Array.isArray(details) ? details : null;
  if (fields?.length) return `${words}: ${fields.map((f) => FIELDS[f] ?? f).join(', ')}`;
  if (typeof details.count === 'number') return `${words} (${plural(details.count, 'message')})`;
  return words;
}
