/**
 * Customer simulator: a small server-rendered web page at `/` where a person plays a Facebook customer
 * (Messenger conversation, page wall) without curl. Every action calls the same event generators as the
 * control API (`control.events.*`), so the relay gets the same signed webhooks.
 *
 * Routes (none collide with Graph paths: `/` is only taken for a GET without a token, `simulator` is no Graph id):
 *   GET  /                         page (query: page, customer, view=chat|wall, notice)
 *   GET  /simulator                → redirect to /
 *   GET  /simulator/live           JSON {key, main, status} for the auto-refresh script
 *   GET  /simulator/media/:id      stored media bytes (links/thumbnails of attachments)
 *   POST /simulator/customers      {page, firstName, lastName}
 *   POST /simulator/send           {customer, text?, file?} (urlencoded or multipart), quickReplyPayload?
 *   POST /simulator/sticker        {customer}
 *   POST /simulator/location       {customer, lat?, long?}
 *   POST /simulator/postback       {customer, title?, payload?}
 *   POST /simulator/visitor-post   {customer, message}
 *   POST /simulator/comment        {customer, parentId, message, as=customer|page}
 *   POST /simulator/page-post      {page, message}
 */
import { createHash } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { SandboxControl } from './control';
import { EventResult, MediaInput } from './events';
import { UploadedFile, readBody, sendHtml, sendJson } from './http-util';
import { SandboxComment, SandboxCustomer, SandboxPage, SandboxPost, SentAttachment, ThreadMessage } from './state';
import { asString, escapeHtml as esc } from './util';

type View = 'chat' | 'wall';

interface Selection {
  page?: SandboxPage;
  customer?: SandboxCustomer;
  view: View;
}

/** Customer actions that Meta does not keep as thread messages (postbacks), remembered for the view. */
interface LocalEvent {
  mid: string;
  pageId: string;
  psid: string;
  timestamp: number;
  label: string;
}

/** True when the request is for the simulator rather than the Graph API. */
export function isSimulatorRequest(method: string, url: URL, req: IncomingMessage): boolean {
  if (url.pathname === '/simulator' || url.pathname.startsWith('/simulator/')) return true;
  if (url.pathname !== '/' || (method !== 'GET' && method !== 'HEAD')) return false;
  // A Graph-style call on the root (token or ids=) keeps its Graph answer.
  return !url.searchParams.has('access_token') && !url.searchParams.has('ids') && !req.headers.authorization;
}

/** MIME type → Messenger attachment type. */
export function attachmentTypeFor(contentType: string | undefined): MediaInput['type'] {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.startsWith('image/')) return 'image';
  if (ct.startsWith('video/')) return 'video';
  if (ct.startsWith('audio/')) return 'audio';
  return 'file';
}

/** HH:MM:SS (UTC) for today, else the date too. */
function time(ms: number, now = Date.now()): string {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10) ? iso.slice(11, 19) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

export class CustomerSimulator {
  private local: LocalEvent[] = [];

  constructor(private readonly control: SandboxControl) {}

  private get state() {
    return this.control.state;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    try {
      if (method === 'GET' || method === 'HEAD') {
        if (path === '/') return sendHtml(res, 200, this.renderPage(this.select(url.searchParams), url.searchParams.get('notice') ?? undefined), NO_STORE);
        if (path === '/simulator') return this.seeOther(res, '/');
        if (path === '/simulator/live') return this.live(res, url.searchParams);
        const media = /^\/simulator\/media\/([^/]+)$/.exec(path);
        if (media) return this.media(res, decodeURIComponent(media[1]));
        return this.fail(res, 404, `Unknown simulator page ${path}`);
      }
      if (method !== 'POST') return this.fail(res, 405, `${method} is not supported here`);
      const body = await readBody(req);
      const f = (k: string) => asString(body.fields[k])?.trim() ?? '';
      const action = path.replace(/^\/simulator\//, '');
      let back: Record<string, string> = {};
      let result: EventResult | undefined;
      let results: EventResult[] = [];
      switch (action) {
        case 'customers': {
          const page = this.state.requirePage(f('page'));
          const c = this.control.createCustomer({ pageId: page.id, firstName: f('firstName') || undefined, lastName: f('lastName') || undefined });
          back = { page: page.id, customer: c.psid, notice: `New customer ${this.state.customerName(c)} (PSID ${c.psid})` };
          break;
        }
        case 'send': {
          const c = this.customer(f('customer'));
          back = this.backTo(c, 'chat');
          const files = body.files.filter((x) => x.data.length > 0);
          const text = asString(body.fields.text) ?? '';
          const qr = f('quickReplyPayload');
          // Like Messenger: each attachment and the text arrive as separate messages.
          for (const file of files) results.push(this.control.events.customerMessage({ psid: c.psid, attachments: [this.mediaFrom(file)] }));
          if (text.trim() !== '') results.push(this.control.events.customerMessage({ psid: c.psid, text, ...(qr ? { quickReplyPayload: qr } : {}) }));
          if (!results.length) back.notice = 'Nothing to send: type a message or choose a file.';
          break;
        }
        case 'sticker': {
          const c = this.customer(f('customer'));
          back = this.backTo(c, 'chat');
          result = this.control.events.customerMessage({ psid: c.psid, sticker: {} });
          break;
        }
        case 'location': {
          const c = this.customer(f('customer'));
          back = this.backTo(c, 'chat');
          const lat = Number(f('lat') || '38.7223');
          const long = Number(f('long') || '-9.1393');
          if (!Number.isFinite(lat) || !Number.isFinite(long)) throw new Error('lat and long must be numbers');
          result = this.control.events.customerMessage({ psid: c.psid, location: { lat, long } });
          break;
        }
        case 'postback': {
          const c = this.customer(f('customer'));
          back = this.backTo(c, 'chat');
          const title = f('title') || 'Get Started';
          result = this.control.events.postback({ psid: c.psid, title, payload: f('payload') || 'GET_STARTED' });
          this.local.push({ mid: result.mid ?? '', pageId: c.pageId, psid: c.psid, timestamp: result.timestamp, label: title });
          if (this.local.length > 1000) this.local.splice(0, this.local.length - 1000);
          break;
        }
        case 'visitor-post': {
          const c = this.customer(f('customer'));
          back = this.backTo(c, 'wall');
          const file = body.files.find((x) => x.data.length > 0);
          if (!f('message') && !file) throw new Error('Write something for the post.');
          result = this.control.events.visitorPost({ psid: c.psid, message: f('message') || undefined, photo: file ? this.mediaFrom(file, 'image') : undefined });
          break;
        }
        case 'comment': {
          const parentId = f('parentId');
          if (!f('message')) throw new Error('Write a comment first.');
          if (f('as') === 'page') {
            result = this.control.events.pageComment({ parentId, message: f('message') });
            back = { page: result.pageId, view: 'wall', ...(f('customer') ? { customer: f('customer') } : {}) };
          } else {
            const c = this.customer(f('customer'));
            back = this.backTo(c, 'wall');
            result = this.control.events.comment({ psid: c.psid, parentId, message: f('message') });
          }
          break;
        }
        case 'page-post': {
          const page = this.state.requirePage(f('page'));
          if (!f('message')) throw new Error('Write something for the post.');
          result = this.control.events.pagePost({ pageId: page.id, message: f('message') });
          back = { page: page.id, view: 'wall', ...(f('customer') ? { customer: f('customer') } : {}) };
          break;
        }
        default:
          return this.fail(res, 404, `Unknown simulator action ${action}`);
      }
      if (result) results = [result];
      if (results.some((r) => !r.queued)) {
        const skipped = this.control.skippedEvents().slice(-1)[0];
        back.notice = `Not sent to the relay: ${skipped?.reason ?? 'no webhook subscription covers this event'}`;
      }
      return this.seeOther(res, '/?' + new URLSearchParams(back).toString() + (back.view === 'wall' ? '' : '#composer'));
    } catch (err) {
      return this.fail(res, 400, (err as Error).message);
    }
  }

  // ---------- helpers ----------

  private customer(psid: string): SandboxCustomer {
    if (!psid) throw new Error('Pick a customer first.');
    return this.state.requireCustomer(psid);
  }

  private backTo(c: SandboxCustomer, view: View): Record<string, string> {
    return { page: c.pageId, customer: c.psid, view };
  }

  private mediaFrom(file: UploadedFile, force?: MediaInput['type']): MediaInput {
    const contentType = file.contentType || 'application/octet-stream';
    return { type: force ?? attachmentTypeFor(contentType), filename: file.filename || undefined, contentType, dataBase64: file.data.toString('base64') };
  }

  private seeOther(res: ServerResponse, location: string): void {
    res.writeHead(303, { location, 'content-length': '0' });
    res.end();
  }

  private fail(res: ServerResponse, status: number, message: string): void {
    sendHtml(res, status, layout('Simulator error', `<main class="error"><h1>Could not do that</h1><p>${esc(message)}</p><p><a href="/">Back to the simulator</a></p></main>`), NO_STORE);
  }

  private media(res: ServerResponse, id: string): void {
    const item = this.control.media(id);
    if (!item) return this.fail(res, 404, 'Unknown media');
    res.writeHead(200, {
      'content-type': item.contentType,
      'content-length': String(item.bytes.length),
      'content-disposition': `inline; filename="${item.filename.replace(/[^\w.\- ]/g, '_')}"`,
      // Uploaded bytes are untrusted: never let them run as a page of this origin.
      'content-security-policy': 'sandbox',
      'x-content-type-options': 'nosniff',
    });
    res.end(item.bytes);
  }

  private select(q: URLSearchParams): Selection {
    const pages = [...this.state.pages.values()];
    const customerParam = q.get('customer');
    const byCustomer = customerParam ? this.state.customers.get(customerParam) : undefined;
    const page = this.state.pages.get(q.get('page') ?? '') ?? (byCustomer ? this.state.pages.get(byCustomer.pageId) : undefined) ?? pages[0];
    const customers = page ? this.customersOf(page.id) : [];
    const customer = byCustomer && byCustomer.pageId === page?.id ? byCustomer : customers[0];
    return { page, customer, view: q.get('view') === 'wall' ? 'wall' : 'chat' };
  }

  private customersOf(pageId: string): SandboxCustomer[] {
    return [...this.state.customers.values()].filter((c) => c.pageId === pageId);
  }

  private customerLabel(c: SandboxCustomer): string {
    return this.state.customerName(c) || `(no profile) ${c.psid}`;
  }

  private live(res: ServerResponse, q: URLSearchParams): void {
    const sel = this.select(q);
    const main = sel.view === 'wall' ? this.renderWall(sel) : this.renderThread(sel);
    const status = this.renderStatus(sel);
    const key = createHash('sha1').update(main).update('\0').update(status).digest('hex');
    sendJson(res, 200, { key, main, status }, NO_STORE);
  }

  // ---------- rendering ----------

  renderPage(sel: Selection, notice?: string): string {
    const { page, customer, view } = sel;
    const q = (extra: Record<string, string>) => '/?' + new URLSearchParams({ ...(page ? { page: page.id } : {}), ...(customer ? { customer: customer.psid } : {}), view, ...extra }).toString();
    const pageLinks = [...this.state.pages.values()]
      .map((p) => `<li><a class="${p.id === page?.id ? 'on' : ''}" href="/?${new URLSearchParams({ page: p.id, view })}">${esc(p.name)}</a></li>`)
      .join('');
    const customerLinks = page
      ? this.customersOf(page.id)
          .map((c) => `<li><a class="${c.psid === customer?.psid ? 'on' : ''}" href="/?${new URLSearchParams({ page: page.id, customer: c.psid, view })}">${esc(this.customerLabel(c))}</a></li>`)
          .join('')
      : '';
    const side = `<aside>
  <h2>Pages</h2><ul class="list">${pageLinks || '<li class="muted">No pages (POST /_control/reset)</li>'}</ul>
  ${
    page
      ? `<h2>Customers of ${esc(page.name)}</h2><ul class="list">${customerLinks || '<li class="muted">none yet</li>'}</ul>
  <form class="newcust" method="post" action="/simulator/customers">
    <input type="hidden" name="page" value="${esc(page.id)}">
    <input name="firstName" placeholder="First name" required>
    <input name="lastName" placeholder="Last name">
    <button>New customer</button>
  </form>`
      : ''
  }
</aside>`;
    const tabs = page
      ? `<nav class="tabs"><a class="${view === 'chat' ? 'on' : ''}" href="${esc(q({ view: 'chat' }))}">Messenger</a><a class="${view === 'wall' ? 'on' : ''}" href="${esc(q({ view: 'wall' }))}">Page wall</a></nav>`
      : '';
    let main = '<p class="muted">Pick a page.</p>';
    if (page && view === 'chat') main = this.renderChat(sel);
    if (page && view === 'wall') main = this.renderWallView(sel);
    const head = `<header><strong>Facebook customer simulator</strong>${
      page ? ` <span class="muted">· ${esc(page.name)}${customer ? ` · as ${esc(this.customerLabel(customer))}` : ''}</span>` : ''
    }</header>`;
    const body = `${head}
<div class="shell">${side}
<main>
  <div id="status" class="status">${this.renderStatus(sel)}</div>
  ${notice ? `<p class="notice">${esc(notice)}</p>` : ''}
  ${tabs}
  ${main}
</main></div>
${page ? liveScript(new URLSearchParams({ page: page.id, ...(customer ? { customer: customer.psid } : {}), view }).toString()) : ''}`;
    const refresh = page && view === 'chat' ? '<noscript><meta http-equiv="refresh" content="5"></noscript>' : '';
    return layout('Customer simulator · Facebook sandbox', body, refresh);
  }

  private renderStatus(sel: Selection): string {
    const wh = this.control.webhooks;
    const app = wh.app;
    const parts: string[] = [];
    if (!app) parts.push('<span class="bad">● no webhook callback URL configured</span> <span class="muted">(PUT /_control/webhook)</span>');
    else parts.push(`<span class="${app.active ? 'ok' : 'bad'}">● ${app.active ? 'active' : 'not verified'}</span> <code>${esc(app.callbackUrl)}</code>`);
    if (sel.page) {
      const fields = sel.page.subscribedFields;
      parts.push(
        fields === null
          ? '<span class="bad">app not installed on this page (subscribed_apps)</span>'
          : `<span class="muted" title="${esc(fields.join(', '))}">app installed on this page (${fields.length} field${fields.length === 1 ? '' : 's'})</span>`,
      );
    }
    const recent = this.control
      .deliveries(sel.page ? { pageId: sel.page.id } : {})
      .slice(-5)
      .reverse()
      .map((d) => {
        const last = d.attempts[d.attempts.length - 1];
        const cls = d.status === 'delivered' ? 'ok' : d.status === 'failed' || d.status === 'dropped' ? 'bad' : 'warn';
        const answer = last ? (last.status === null ? esc(last.error ?? 'no answer') : `HTTP ${last.status}`) : '';
        return `<li title="${esc(d.createdAt)}"><span class="${cls}">${esc(d.status)}</span> #${d.id} ${esc(d.fields.join(','))} · ${d.attempts.length} attempt${d.attempts.length === 1 ? '' : 's'}${answer ? ` · ${answer}` : ''}</li>`;
      })
      .join('');
    return `<div>Webhook: ${parts.join(' · ')}</div>${recent ? `<ul class="deliveries">${recent}</ul>` : '<div class="muted">no deliveries yet</div>'}`;
  }

  private renderChat(sel: Selection): string {
    const c = sel.customer;
    if (!c) return '<p class="muted">This page has no customers yet: create one on the left.</p>';
    const hidden = `<input type="hidden" name="customer" value="${esc(c.psid)}">`;
    const small = (action: string, label: string, extra = '') => `<form method="post" action="${action}">${hidden}${extra}<button class="chip">${label}</button></form>`;
    return `<section class="chat">
  <div id="live" class="thread">${this.renderThread(sel)}</div>
  <form id="composer" class="composer" method="post" action="/simulator/send" enctype="multipart/form-data">
    ${hidden}
    <input class="file" type="file" name="file" title="Attach a file: images, videos and audio become that attachment type, anything else a file">
    <input type="text" name="text" placeholder="Aa" autocomplete="off" autofocus>
    <button>Send</button>
  </form>
  <div class="chips">
    ${small('/simulator/sticker', '👍 Like sticker')}
    ${small('/simulator/location', '📍 Location')}
    ${small('/simulator/postback', '▶ Get Started', '<input type="hidden" name="title" value="Get Started"><input type="hidden" name="payload" value="GET_STARTED">')}
  </div>
</section>`;
  }

  renderThread(sel: Selection): string {
    const c = sel.customer;
    if (!c || !sel.page) return '';
    type Item = { ts: number; html: string };
    const msgs = this.control.messages({ pageId: sel.page.id, psid: c.psid });
    const items: Item[] = msgs.map((m) => ({ ts: m.timestamp, html: this.renderMessage(m) }));
    for (const e of this.local) {
      if (e.psid === c.psid && e.pageId === sel.page.id) {
        items.push({ ts: e.timestamp, html: bubble('out', `<div class="postback">▶ ${esc(e.label)}</div>`, e.mid, e.timestamp, 'postback') });
      }
    }
    items.sort((a, b) => a.ts - b.ts);
    if (!items.length) return '<p class="muted center">No messages yet. Say hello!</p>';
    const last = msgs[msgs.length - 1];
    const quick = last && last.direction === 'outbound' ? this.quickReplies(last, c) : '';
    return items.map((i) => i.html).join('') + quick;
  }

  private renderMessage(m: ThreadMessage): string {
    const mine = m.direction === 'inbound';
    const parts: string[] = [];
    if (m.text !== undefined && m.text !== '') parts.push(`<div class="text">${esc(m.text)}</div>`);
    for (const a of m.attachments ?? []) parts.push(this.renderAttachment(a, m));
    if (!parts.length) parts.push('<div class="muted">(empty)</div>');
    const who = mine ? '' : m.origin === 'app' ? 'via Send API' : m.origin === 'page_inbox' ? 'Page Inbox' : `app ${m.origin}`;
    return bubble(mine ? 'out' : 'in', parts.join(''), m.mid, m.timestamp, who);
  }

  private renderAttachment(a: SentAttachment, m: ThreadMessage): string {
    const href = a.mediaId ? `/simulator/media/${encodeURIComponent(a.mediaId)}` : a.url;
    const name = a.filename ?? a.type;
    if (a.type === 'location') {
      const p = (a.payload ?? {}) as { lat?: number; long?: number; title?: string };
      return `<div class="att">📍 ${esc(String(p.title ?? 'Location'))} <span class="muted">(${esc(String(p.lat))}, ${esc(String(p.long))})</span></div>`;
    }
    if (a.type === 'sticker' && href) return `<div class="att"><img class="sticker" src="${esc(href)}" alt="sticker"> <span class="muted">sticker 👍</span></div>`;
    if (a.type === 'template' || a.source === 'template') return this.renderTemplate(a, m);
    if (!href) return `<div class="att">[${esc(a.type)}]</div>`;
    const link = safeHref(href);
    if (a.type === 'image') return `<div class="att"><a href="${esc(link)}" target="_blank" rel="noopener"><img class="thumb" src="${esc(link)}" alt="${esc(name)}"></a></div>`;
    const icon = a.type === 'video' ? '🎬' : a.type === 'audio' ? '🎵' : '📄';
    return `<div class="att">${icon} <a href="${esc(link)}" target="_blank" rel="noopener">${esc(name)}</a>${a.size ? ` <span class="muted">${a.size} B</span>` : ''}</div>`;
  }

  /** Templates the relay sends (button / generic): their text, web_url links and postback buttons the customer can press. */
  private renderTemplate(a: SentAttachment, m: ThreadMessage): string {
    const p = (a.payload ?? {}) as Record<string, unknown>;
    if (a.type === 'fallback') {
      const f = p as { url?: string; title?: string };
      return `<div class="att">🔗 <a href="${esc(safeHref(f.url ?? '#'))}" target="_blank" rel="noopener">${esc(f.title ?? f.url ?? 'link')}</a></div>`;
    }
    const out: string[] = [`<div class="muted">[${esc(String(p.template_type ?? 'template'))}]</div>`];
    if (typeof p.text === 'string') out.push(`<div class="text">${esc(p.text)}</div>`);
    const elements = Array.isArray(p.elements) ? (p.elements as Record<string, unknown>[]) : [];
    for (const e of elements) {
      out.push(`<div class="text"><b>${esc(String(e.title ?? ''))}</b>${e.subtitle ? `<br>${esc(String(e.subtitle))}` : ''}</div>`);
      out.push(this.buttons(e.buttons, m));
    }
    out.push(this.buttons(p.buttons, m));
    return `<div class="att tpl">${out.join('')}</div>`;
  }

  private buttons(list: unknown, m: ThreadMessage): string {
    if (!Array.isArray(list)) return '';
    return list
      .map((b: Record<string, unknown>) => {
        const title = String(b.title ?? '');
        if (b.type === 'web_url') return `<a class="chip" href="${esc(safeHref(String(b.url ?? '#')))}" target="_blank" rel="noopener">${esc(title)}</a>`;
        if (b.type === 'postback') {
          return `<form method="post" action="/simulator/postback"><input type="hidden" name="customer" value="${esc(m.psid)}"><input type="hidden" name="title" value="${esc(title)}"><input type="hidden" name="payload" value="${esc(String(b.payload ?? ''))}"><button class="chip">${esc(title)}</button></form>`;
        }
        return `<span class="chip muted">${esc(title || String(b.type))}</span>`;
      })
      .join('');
  }

  /** Quick replies of the page's last message, as buttons (they disappear once the customer answers). */
  private quickReplies(m: ThreadMessage, c: SandboxCustomer): string {
    const raw = (m.raw ?? {}) as { quick_replies?: Record<string, unknown>[] };
    if (!Array.isArray(raw.quick_replies) || !raw.quick_replies.length) return '';
    const buttons = raw.quick_replies
      .filter((q) => q.content_type === undefined || q.content_type === 'text')
      .map((q) => {
        const title = String(q.title ?? '');
        return `<form method="post" action="/simulator/send"><input type="hidden" name="customer" value="${esc(c.psid)}"><input type="hidden" name="text" value="${esc(title)}"><input type="hidden" name="quickReplyPayload" value="${esc(String(q.payload ?? ''))}"><button class="chip">${esc(title)}</button></form>`;
      })
      .join('');
    return buttons ? `<div class="quick">${buttons}</div>` : '';
  }

  private renderWallView(sel: Selection): string {
    const page = sel.page!;
    const c = sel.customer;
    const cust = c ? `<input type="hidden" name="customer" value="${esc(c.psid)}">` : '';
    return `<section class="wall">
  <div class="composers">
    <form method="post" action="/simulator/visitor-post" enctype="multipart/form-data">
      ${cust}<textarea name="message" rows="2" placeholder="${c ? `Write something to ${esc(page.name)} as ${esc(this.customerLabel(c))}…` : 'Create a customer first'}"${c ? '' : ' disabled'}></textarea>
      <div class="row"><input class="file" type="file" name="photo" accept="image/*" title="Add a photo"><button${c ? '' : ' disabled'}>Post as visitor</button></div>
    </form>
    <form method="post" action="/simulator/page-post">
      <input type="hidden" name="page" value="${esc(page.id)}">${cust}
      <textarea name="message" rows="2" placeholder="New post as ${esc(page.name)}…"></textarea>
      <div class="row"><button class="secondary">Post as page</button></div>
    </form>
  </div>
  <div id="live">${this.renderWall(sel)}</div>
</section>`;
  }

  renderWall(sel: Selection): string {
    const page = sel.page;
    if (!page) return '';
    const posts = [...this.state.posts.values()].filter((p) => p.pageId === page.id && !p.removed).sort((a, b) => b.createdAt - a.createdAt);
    if (!posts.length) return '<p class="muted">No posts yet.</p>';
    return posts.map((p) => this.renderPost(p, sel)).join('');
  }

  private renderPost(p: SandboxPost, sel: Selection): string {
    const comments = [...this.state.comments.values()].filter((x) => x.postId === p.id && !x.removed).sort((a, b) => a.createdAt - b.createdAt);
    const children = (parentId: string): string => {
      const list = comments.filter((x) => x.parentId === parentId);
      if (!list.length) return '';
      return `<ul class="comments">${list.map((x) => `<li>${this.renderComment(x, sel)}${children(x.id)}</li>`).join('')}</ul>`;
    };
    const byPage = p.fromId === p.pageId;
    return `<article class="post">
  <div class="meta"><b>${esc(p.fromName)}</b> ${byPage ? '' : '<span class="tag">visitor post</span>'} <span class="muted">${time(p.createdAt)}</span>${p.isHidden ? ' <span class="tag">hidden</span>' : ''}</div>
  ${p.message !== undefined ? `<div class="text">${esc(p.message)}</div>` : ''}
  ${p.photoMediaId ? `<a href="/simulator/media/${encodeURIComponent(p.photoMediaId)}" target="_blank" rel="noopener"><img class="thumb" src="/simulator/media/${encodeURIComponent(p.photoMediaId)}" alt="photo"></a>` : ''}
  <div class="mid">${esc(p.id)}</div>
  ${children(p.id)}
  ${this.commentForm(p.id, sel, 'Write a comment…')}
</article>`;
  }

  private renderComment(x: SandboxComment, sel: Selection): string {
    return `<div class="comment${x.byPage ? ' bypage' : ''}"><b>${esc(x.fromName)}</b> ${x.message !== undefined ? esc(x.message) : ''}${
      x.photoMediaId ? ` <a href="/simulator/media/${encodeURIComponent(x.photoMediaId)}" target="_blank" rel="noopener">[photo]</a>` : ''
    }${x.isHidden ? ' <span class="tag">hidden</span>' : ''} <span class="muted">${time(x.createdAt)}</span><div class="mid">${esc(x.id)}</div></div>
    <details class="reply"><summary>Reply</summary>${this.commentForm(x.id, sel, 'Write a reply…')}</details>`;
  }

  private commentForm(parentId: string, sel: Selection, placeholder: string): string {
    const c = sel.customer;
    return `<form class="cform" method="post" action="/simulator/comment">
    <input type="hidden" name="parentId" value="${esc(parentId)}">${c ? `<input type="hidden" name="customer" value="${esc(c.psid)}">` : ''}
    <input name="message" placeholder="${esc(placeholder)}" autocomplete="off" required>
    ${c ? `<button name="as" value="customer">as ${esc(this.customerLabel(c))}</button>` : ''}<button class="secondary" name="as" value="page">as page</button>
  </form>`;
  }
}

// ---------- page shell ----------

const NO_STORE = { 'cache-control': 'no-store' };

/** Only http(s), relative and fragment links are rendered as links (no javascript: URLs from relay payloads). */
function safeHref(url: string): string {
  return /^(https?:\/\/|\/|#)/i.test(url) ? url : '#';
}

function bubble(side: 'in' | 'out', inner: string, mid: string, ts: number, note: string): string {
  return `<div class="msg ${side}"><div class="bubble">${inner}</div><div class="mid" title="${esc(new Date(ts).toISOString())}">${time(ts)}${note ? ` · ${esc(note)}` : ''} · ${esc(mid)}</div></div>`;
}

function liveScript(query: string): string {
  return `<script>
(function () {
  var url = '/simulator/live?${query}';
  var key = null;
  function bottom() { var t = document.querySelector('.thread'); if (t) t.scrollTop = t.scrollHeight; }
  function busy(el) {
    if (!el) return true;
    if (el.contains(document.activeElement) && document.activeElement !== document.body) return true;
    return Array.prototype.some.call(el.querySelectorAll('input[type=text],input:not([type]),textarea'), function (i) { return i.value; });
  }
  function tick() {
    fetch(url, { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (d) {
      if (key !== null && d.key !== key) {
        document.getElementById('status').innerHTML = d.status;
        var live = document.getElementById('live');
        if (!busy(live)) { live.innerHTML = d.main; bottom(); key = d.key; }
      } else key = d.key;
    }).catch(function () {}).then(function () { setTimeout(tick, 3000); });
  }
  bottom();
  tick();
})();
</script>`;
}

function layout(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>${head}
<style>
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c1e21;background:#f0f2f5}
header{background:#1877f2;color:#fff;padding:10px 16px}
header .muted{color:#dbe7ff}
.shell{display:flex;gap:16px;padding:16px;max-width:1100px;margin:0 auto}
aside{width:250px;flex:none}
main{flex:1;min-width:0}
h2{font-size:12px;text-transform:uppercase;color:#65676b;margin:14px 0 6px}
.list{list-style:none;margin:0;padding:0}
.list a{display:block;padding:6px 8px;border-radius:6px;color:#1c1e21;text-decoration:none}
.list a:hover{background:#e4e6eb}.list a.on{background:#e7f3ff;color:#1877f2;font-weight:600}
.newcust{display:flex;flex-direction:column;gap:6px;margin-top:10px}
input,textarea,button{font:inherit}
input,textarea{border:1px solid #ccd0d5;border-radius:6px;padding:6px 8px;background:#fff;width:100%}
button{border:0;border-radius:6px;padding:6px 12px;background:#1877f2;color:#fff;cursor:pointer;white-space:nowrap}
button:disabled{background:#bcc0c4;cursor:default}
button.secondary{background:#e4e6eb;color:#1c1e21}
.muted{color:#65676b}.center{text-align:center}
.status{background:#fff;border-radius:8px;padding:8px 12px;margin-bottom:10px;font-size:12px}
.status code{font-size:12px}
.deliveries{margin:4px 0 0;padding-left:16px}
.ok{color:#1a7f37}.bad{color:#d93025}.warn{color:#b26a00}
.notice{background:#fff8e1;border:1px solid #f0d58c;border-radius:8px;padding:8px 12px}
.tabs{display:flex;gap:4px;margin-bottom:8px}
.tabs a{padding:6px 14px;border-radius:6px 6px 0 0;text-decoration:none;color:#65676b}
.tabs a.on{background:#fff;color:#1877f2;font-weight:600}
.chat,.wall{background:#fff;border-radius:8px;padding:12px}
.thread{height:55vh;overflow-y:auto;padding:8px;display:flex;flex-direction:column;gap:6px}
.msg{display:flex;flex-direction:column;max-width:75%}
.msg.out{align-self:flex-end;align-items:flex-end}.msg.in{align-self:flex-start}
.bubble{padding:8px 12px;border-radius:18px;background:#e4e6eb;overflow-wrap:anywhere}
.msg.out .bubble{background:#0084ff;color:#fff}.msg.out .bubble a{color:#fff}
.text{white-space:pre-wrap}
.mid{font-size:10px;color:#8a8d91;margin:2px 6px;overflow-wrap:anywhere}
.thumb{max-width:220px;max-height:180px;min-width:48px;min-height:48px;object-fit:contain;background:#d8dadf;border-radius:8px;display:block}
.msg.out .bubble .muted{color:#dbe7ff}
.sticker{width:48px;height:48px;vertical-align:middle}
.att+.att,.text+.att{margin-top:4px}
.tpl .chip,.quick .chip{margin:4px 4px 0 0}
.composer{display:flex;gap:8px;align-items:center;margin-top:8px}
input.file{flex:none;width:auto;max-width:210px;border:0;padding:0;font-size:12px;background:none}
.chips,.quick{display:flex;gap:6px;flex-wrap:wrap;margin-top:8px}
.quick{align-self:flex-end;justify-content:flex-end}
form{margin:0}
.chip{display:inline-block;background:#fff;color:#0084ff;border:1px solid #0084ff;border-radius:16px;padding:4px 12px;text-decoration:none}
.composers{display:grid;grid-template-columns:1fr 1fr;gap:10px;margin-bottom:12px}
.row{display:flex;justify-content:space-between;align-items:center;margin-top:4px}
.post{border:1px solid #e4e6eb;border-radius:8px;padding:10px 12px;margin-bottom:10px}
.post .meta{margin-bottom:4px}
.tag{font-size:11px;background:#e4e6eb;border-radius:4px;padding:1px 6px;color:#65676b}
.comments{list-style:none;margin:6px 0 0;padding-left:14px;border-left:2px solid #e4e6eb}
.comment{background:#f0f2f5;border-radius:12px;padding:6px 10px;display:inline-block;margin-top:6px}
.comment.bypage{background:#e7f3ff}
.reply summary{font-size:12px;color:#65676b;cursor:pointer;margin:2px 8px}
.cform{display:flex;gap:6px;margin-top:6px}
.error{background:#fff;border-radius:8px;padding:16px;max-width:600px;margin:24px auto}
@media (max-width:760px){.shell{flex-direction:column}aside{width:auto}.composers{grid-template-columns:1fr}}
</style></head><body>
${body}
</body></html>`;
}
