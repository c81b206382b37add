import { get } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { href } from '../lib/router.js';
import { bytes, isMissingEndpoint, localTime, plural } from '../lib/format.js';
import { errorBanner, notice } from '../components/banner.js';
import { SEARCH_KEYS } from './integration/history.js';

export const title = 'Conversation';

const STATUS = {
  queued: { label: 'waiting to be delivered', tone: 'muted' },
  held: { label: 'held: the integration is disabled', tone: 'warn' },
  delivered: { label: 'delivered', tone: 'ok' },
  failed: { label: 'failed', tone: 'bad' },
  skipped: { label: 'not forwarded', tone: 'muted' },
  sending: { label: 'sending', tone: 'muted' },
  sent: { label: 'sent', tone: 'ok' },
  read: { label: 'read', tone: 'ok' },
};

const KINDS = {
  postback: 'Tapped a button', referral: 'Came from a link or ad', reaction: 'Reaction', edit: 'Edited', removal: 'Removed',
  note: 'Note', post: 'Wall post', private_reply: 'Private reply',
};

/**
 * One conversation as the customer and the agent saw it: the customer on the left, the page and the
 * agents on the right, in the order Facebook had them; attachments inline (images) or as links.
 */
export async function render({ params, query }) {
  const backQuery = { tab: 'history', ...Object.fromEntries(SEARCH_KEYS.filter((key) => query[key]).map((key) => [key, query[key]])) };
  const back = h('a', { class: 'back-link', href: href(`/integrations/${encodeURIComponent(params.id)}`, backQuery) }, '← Back to the history');
  let answer;
  try {
    answer = await get(`/api/v1/conversations/${encodeURIComponent(params.conversationId)}`);
  } catch (error) {
    if (!isMissingEndpoint(error)) throw error;
    return h('div', { class: 'stack' }, back, notice('Conversation threads are not available on this relay yet.', 'info'));
  }
  const { conversation } = answer;
  const who = conversation.customerName || conversation.customerId;
  document.title = `${who} · Open Channel Relay`;
  const wall = conversation.channel === 'wall';
  const thread = threadView(params.conversationId, who, answer);

  return h('div', { class: 'stack' },
    back,
    h('section', { class: 'section conversation-head', 'aria-labelledby': 'conversation-title' },
      h('h2', { id: 'conversation-title' }, wall ? `Wall post thread with ${who}` : `Messenger conversation with ${who}`),
      h('dl', { class: 'facts' },
        fact('Customer', conversation.customerName ? `${conversation.customerName} (id ${conversation.customerId})` : conversation.customerId),
        fact('Integration', conversation.integrationName ?? ''),
        wall ? fact('Post', h('a', { href: `https://www.facebook.com/${encodeURIComponent(conversation.threadId)}`, target: '_blank', rel: 'noopener noreferrer' }, conversation.threadId)) : null,
        fact('Messages', plural(conversation.messageCount, 'message')))),
    h('section', { class: 'section', 'aria-labelledby': 'thread-title' },
      h('h2', { id: 'thread-title', class: 'visually-hidden' }, 'Messages'),
      thread));
}

/**
 * The thread, latest page first, opened at its newest message: "Show earlier messages" loads the page
 * before the oldest one shown and puts it on top; focus goes to the first of the messages it added.
 */
function threadView(conversationId, who, firstPage) {
  let messages = firstPage.messages;
  let earlier = firstPage.earlier ?? null;
  const view = h('div', { class: 'stack' });
  const status = h('p', { class: 'visually-hidden', role: 'status' });
  const newest = openAtNewest(view);

  async function loadEarlier(button) {
    // The reader is up at the button now: where they are is theirs (and the focus move's), not the bottom's.
    newest.release();
    button.disabled = true;
    button.textContent = 'Loading earlier messages…';
    try {
      const page = await get(`/api/v1/conversations/${encodeURIComponent(conversationId)}?before=${encodeURIComponent(earlier)}`);
      const firstNew = page.messages[0]?.id;
      messages = [...page.messages, ...messages];
      earlier = page.earlier ?? null;
      draw();
      status.textContent = `${plural(page.messages.length, 'earlier message')} shown.`;
      const added = firstNew && view.querySelector(`[data-message-id="${CSS.escape(firstNew)}"]`);
      if (added) added.focus();
    } catch (error) {
      draw(error);
    }
  }

  function draw(error) {
    const more = earlier
      ? h('button', { type: 'button', class: 'secondary load-earlier', onclick: (event) => loadEarlier(event.currentTarget) }, 'Show earlier messages')
      : null;
    replace(view,
      error ? errorBanner(`Earlier messages could not be loaded: ${error.message}`) : null,
      more,
      messages.length
        ? h('ol', { class: 'thread', 'aria-label': `Messages with ${who}` }, messages.map((m, i) => bubble(m, who, messages[i - 1])))
        : h('p', { class: 'muted' }, 'This conversation has no messages any more.'),
      status);
  }

  draw();
  return view;
}

/** How far from the bottom (CSS pixels) still counts as being at it: room for fractional scroll positions when zoomed. */
const AT_BOTTOM = 4;

/**
 * Opens the thread at its newest message, as chat apps do. In this layout the window scrolls (the thread
 * is not a scroll box), so the window jumps to the bottom without animation once the thread is laid out;
 * the focus stays where the shell put it (the page title), nothing is focused just to scroll.
 * While the reader stays at the bottom, the thread growing afterwards (a thumbnail loading, a narrower
 * window) keeps the newest message in view; once they scroll up, nothing moves the view for them until they
 * come back down. `release()` stops sticking (before earlier messages are added and focused).
 */
function openAtNewest(view) {
  const scroller = document.scrollingElement ?? document.documentElement;
  let opened = false;
  let stick = true;
  const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= AT_BOTTOM;
  const onScroll = () => {
    if (!view.isConnected) stop();
    // Scrolls before the first positioning come from the shell (the previous page's position, the title's focus).
    else if (opened) stick = atBottom();
  };
  // Called once the thread is first laid out (after the shell has put it on the page), then whenever its size changes.
  const observer = new ResizeObserver(() => {
    if (!view.isConnected) stop();
    else if (stick) {
      window.scrollTo({ top: scroller.scrollHeight, behavior: 'instant' });
      opened = true;
    }
  });
  function stop() {
    observer.disconnect();
    window.removeEventListener('scroll', onScroll);
  }
  window.addEventListener('scroll', onScroll, { passive: true });
  observer.observe(view);
  return {
    release() {
      stick = false;
      opened = true;
    },
  };
}

function fact(term, value) {
  return h('div', {}, h('dt', {}, term), h('dd', {}, value));
}

/** The page's own side: agents' replies and what the page sent from Facebook itself. */
function fromPage(message) {
  return message.direction === 'out' || message.event === 'echo' || message.kind === 'echo';
}

function authorOf(message, who) {
  if (message.direction === 'out') return 'Agent';
  return fromPage(message) ? 'Page (sent from Facebook)' : who;
}

function bubble(message, who, previous) {
  const mine = fromPage(message);
  const status = STATUS[message.status] ?? { label: message.status, tone: 'muted' };
  const author = authorOf(message, who);
  const kind = KINDS[message.kind];
  // The author is named once per run of messages, as chat apps do (screen readers get it every time).
  const repeated = previous && authorOf(previous, who) === author && !kind;
  return h('li', { class: `bubble-row ${mine ? 'from-page' : 'from-customer'}${repeated ? ' continued' : ''}`, dataset: { messageId: message.id }, tabindex: '-1' },
    h('div', { class: `bubble status-${message.status}` },
      h('p', { class: repeated ? 'bubble-author visually-hidden' : 'bubble-author' }, author, kind ? h('span', { class: 'bubble-kind' }, ` · ${kind}`) : null),
      message.text ? h('p', { class: 'bubble-text' }, message.text) : null,
      message.attachment ? attachment(message.attachment) : null,
      h('p', { class: 'bubble-meta' },
        h('time', { datetime: message.createdAt }, localTime(message.occurredAt ? new Date(message.occurredAt).toISOString() : message.createdAt)),
        ' · ', h('span', { class: `status-word tone-${status.tone}` }, status.label),
        message.attempts > 1 ? ` · ${message.attempts} tries` : null),
      message.lastError && message.status !== 'delivered'
        ? h('p', { class: 'bubble-error' }, message.lastError)
        : null));
}

/** Images shown small (a click opens the full file); other files as a download link. */
function attachment(file) {
  const name = file.filename || 'attachment';
  const label = `${name}${file.size ? ` (${bytes(file.size)})` : ''}`;
  if (/^image\//.test(file.contentType ?? '')) {
    const gone = h('span', { class: 'attachment-gone', hidden: true }, `${name}: the relay no longer keeps this file.`);
    const image = h('img', { src: file.url, alt: `Image: ${name}`, class: 'attachment-image', loading: 'lazy' });
    const link = h('a', { href: file.url, target: '_blank', rel: 'noopener', class: 'attachment-link' }, image);
    image.addEventListener('error', () => {
      link.hidden = true;
      gone.hidden = false;
    });
    return h('div', { class: 'attachment' }, link, gone);
  }
  return h('div', { class: 'attachment' }, h('a', { href: file.url, target: '_blank', rel: 'noopener', class: 'attachment-file' }, `📎 ${label}`));
}
