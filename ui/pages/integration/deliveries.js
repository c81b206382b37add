import { get, post } from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { duration, isMissingEndpoint, localTime, plural } from '../../lib/format.js';
import { errorBanner, notice } from '../../components/banner.js';
import { confirmDialog } from '../../components/confirm.js';

const PAGE_SIZE = 50;

/**
 * Deliveries tab: inbound messages the contact center did not take (failed, with the reason in
 * words) and those waiting for a retry; each one's attempts; Replay one or all failed.
 */
export async function deliveries({ path, onChange }) {
  const result = h('div', { class: 'action-result', 'aria-live': 'polite' });
  const failedBox = h('div', {});
  const retryBox = h('div', {});
  const replayAll = h('button', { type: 'button', class: 'primary', id: 'replay-all', onclick: async () => {
    const sure = await confirmDialog({
      title: 'Replay all failed messages?',
      text: 'Every failed message of this integration goes back in line and is sent to the contact center again, once each, in the order they arrived.',
      confirmLabel: 'Replay all failed',
    });
    if (!sure) return;
    replayAll.disabled = true;
    try {
      const answer = await post(`${path}/messages/replay-failed`);
      replace(result, notice(answer.count ? `${plural(answer.count, 'message')} put back in line for the contact center.` : 'There was no failed message to replay.'));
      onChange?.();
      await load();
    } catch (error) {
      replace(result, errorBanner(isMissingEndpoint(error) ? 'Replaying all failed messages at once is not available on this relay yet; replay them one by one.' : error.message));
    } finally {
      replayAll.disabled = false;
    }
  } }, 'Replay all failed');

  async function load() {
    const [failed, queued] = await Promise.all([
      get(`${path}/messages?direction=in&status=failed&pageSize=${PAGE_SIZE}`),
      get(`${path}/messages?direction=in&status=queued&pageSize=${PAGE_SIZE}`),
    ]);
    replayAll.hidden = failed.total === 0;
    replace(failedBox, failed.total
      ? [h('p', { class: 'muted' }, failed.total > failed.items.length
        ? `${plural(failed.total, 'failed message')}; the ${failed.items.length} most recent are shown.`
        : `${plural(failed.total, 'failed message')}.`),
      messageTable(failed.items, { caption: 'Failed messages, newest first', path, result, reload: load, onChange })]
      : h('p', { class: 'empty-line' }, 'No failed deliveries: the contact center took every message.'));
    const retrying = queued.items.filter((m) => m.attempts > 0);
    replace(retryBox, retrying.length
      ? messageTable(retrying, { caption: 'Messages waiting for their next try', path, result, reload: load, onChange })
      : h('p', { class: 'empty-line' }, 'Nothing is waiting for a retry.'));
  }
  await load();

  return h('div', { class: 'stack' },
    h('section', { class: 'section', 'aria-labelledby': 'failed-title' },
      h('div', { class: 'section-head' }, h('h2', { id: 'failed-title' }, 'Failed deliveries'), replayAll),
      h('p', { class: 'muted' }, 'Messages from Facebook that the contact center refused, or that could not be delivered after every retry. Fix the cause (often the Openchannel URL or the API key in Settings), then replay them.'),
      result,
      failedBox),
    h('section', { class: 'section', 'aria-labelledby': 'retry-title' },
      h('h2', { id: 'retry-title' }, 'Waiting for a retry'),
      h('p', { class: 'muted' }, 'The relay tries again by itself: after 5 s, 30 s, 2 min, 10 min, 30 min, then every hour for about a day.'),
      retryBox));
}

function messageTable(items, { caption, path, result, reload, onChange }) {
  return h('div', { class: 'table-scroll' }, h('table', { class: 'table deliveries-table' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['Received', 'Customer', 'Message', 'Reason', 'Tries', h('span', { class: 'visually-hidden' }, 'Actions')].map((head) => h('th', { scope: 'col' }, head)))),
    items.map((message) => messageRows(message, { path, result, reload, onChange }))));
}

/** One message: a row, and a hidden row below it with its attempts, opened by "Attempts". */
function messageRows(message, { path, result, reload, onChange }) {
  const detail = h('td', { colspan: '6', class: 'attempts-cell' });
  const detailRow = h('tr', { class: 'attempts-row', hidden: true }, detail);
  const detailId = `attempts-${message.id}`;
  detail.id = detailId;
  let loaded = false;
  const toggle = h('button', { type: 'button', class: 'secondary small', 'aria-expanded': 'false', 'aria-controls': detailId, onclick: async () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    detailRow.hidden = !open;
    if (open && !loaded) {
      loaded = true;
      replace(detail, h('p', { class: 'loading' }, 'Loading the attempts…'));
      try {
        replace(detail, attemptsTable(await get(`${path}/messages/${encodeURIComponent(message.id)}/attempts`)));
      } catch (error) {
        loaded = false;
        replace(detail, isMissingEndpoint(error) ? notice('The list of attempts is not available on this relay yet.', 'info') : errorBanner(error.message));
      }
    }
  } }, 'Attempts');
  const replay = message.status === 'failed'
    ? h('button', { type: 'button', class: 'secondary small', onclick: async () => {
      const sure = await confirmDialog({
        title: 'Replay this message?',
        text: `"${snippet(message.text)}" goes back in line and is sent to the contact center again.`,
        confirmLabel: 'Replay',
      });
      if (!sure) return;
      replay.disabled = true;
      try {
        await post(`${path}/messages/${encodeURIComponent(message.id)}/replay`);
        replace(result, notice(`"${snippet(message.text)}" was put back in line for the contact center.`));
        onChange?.();
        await reload();
      } catch (error) {
        replay.disabled = false;
        replace(result, errorBanner(error.message));
      }
    } }, 'Replay')
    : null;
  return h('tbody', { class: 'message-group', dataset: { messageId: message.id } },
    h('tr', {},
      h('td', { dataset: { label: 'Received' } }, h('time', { datetime: message.createdAt }, localTime(message.createdAt))),
      h('td', { dataset: { label: 'Customer' } }, message.customerName || message.customerId || '—'),
      h('td', { class: 'message-text', dataset: { label: 'Message' } }, snippet(message.text)),
      h('td', { class: 'reason', dataset: { label: 'Reason' } }, message.lastError || 'No reason was recorded.'),
      h('td', { dataset: { label: 'Tries' } }, String(message.attempts)),
      h('td', { class: 'row-actions' }, toggle, replay)),
    detailRow);
}

function attemptsTable(attempts) {
  if (!attempts.length) return h('p', { class: 'muted' }, 'No attempt was recorded for this message.');
  return h('table', { class: 'table attempts-table' },
    h('caption', {}, 'Delivery attempts'),
    h('thead', {}, h('tr', {}, ['#', 'Started', 'Duration', 'HTTP status', 'Outcome', 'Error'].map((head) => h('th', { scope: 'col' }, head)))),
    h('tbody', {}, attempts.map((a) => h('tr', {},
      h('td', {}, String(a.attempt)),
      h('td', {}, localTime(a.startedAt)),
      h('td', {}, duration(a.durationMs)),
      h('td', {}, a.httpStatus === null || a.httpStatus === undefined ? 'no answer' : String(a.httpStatus)),
      h('td', {}, outcomeLabel(a.outcome)),
      h('td', {}, a.error ?? '')))));
}

function outcomeLabel(outcome) {
  return { delivered: 'Delivered', retry: 'Will retry', failed: 'Failed' }[outcome] ?? outcome;
}

function snippet(text) {
  if (!text) return '(no text)';
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
