import type { IncomingMessage, ServerResponse } from 'node:http';
import { ReplyError } from './agent';
import { sendFile } from './attachments';
import type { SandboxContext } from './context';
import type { InteractionView, SandboxControl } from './control';
import { escapeHtml as h, HttpError, parseForm, readBody, redirect, sendHtml, sendJson } from './http-util';
import type { Account, Message } from './state';

const MAX_INTERACTIONS_SHOWN = 60;
const MAX_MESSAGES_SHOWN = 30;

/** The agent's page at `/` and its form targets under `/_ui/...`. Server-rendered, no scripts. */
export async function handleUi(ctx: SandboxContext, control: SandboxControl, req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
  const query = new URLSearchParams(search);
  try {
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) return sendHtml(res, 200, renderPage(ctx, control, query.get('flash')));
    const parts = path.split('/').filter(Boolean).slice(1); // drop '_ui'
    if (parts[0] === 'attachments' && req.method === 'GET') {
      const attachment = ctx.state.getAttachment(parts[1]);
      if (!attachment) return sendJson(res, 404, { message: 'Attachment not found' });
      return sendFile(res, attachment, false, true);
    }
    if (req.method !== 'POST') return sendJson(res, 404, { message: `Not found: ${path}` });
    const raw = await readBody(req, ctx.maxAttachmentBytes + 1024 * 1024);
    const form = await parseForm(raw, req.headers['content-type']);
    const field = (name: string): string => {
      const v = form.get(name);
      return typeof v === 'string' ? v.trim() : '';
    };
    const back = (flash: string): void => redirect(res, `/?flash=${encodeURIComponent(flash)}`);
    const id = Number(parts[1]);

    if (parts[0] === 'accounts' && parts.length === 1) {
      const account = control.createAccount({
        id: field('id') ? Number(field('id')) : undefined,
        name: field('name') || undefined,
        apiKey: field('apiKey') || null,
        replyUrl: field('replyUrl') || null,
      });
      return back(`Account ${account.id} created`);
    }
    if (parts[0] === 'accounts' && parts[2] === 'reply-url') {
      control.setReplyUrl(id, field('replyUrl') || null);
      return back(`Reply URL of account ${id} saved`);
    }
    if (parts[0] === 'accounts' && parts[2] === 'list-delete') {
      control.deleteList(id);
      return back(`Contact list of account ${id} deleted: the account now answers 404`);
    }
    if (parts[0] === 'accounts' && parts[2] === 'list-restore') {
      control.restoreList(id);
      return back(`Contact list of account ${id} restored`);
    }
    if (parts[0] === 'interactions' && parts[2] === 'close') {
      control.closeInteraction(id);
      return back(`Interaction ${id} closed`);
    }
    if (parts[0] === 'interactions' && parts[2] === 'reply') {
      let attachmentId: number | null = null;
      const file = form.get('file');
      if (file && typeof file !== 'string' && file.size > 0) {
        attachmentId = control.addAttachment({ name: file.name || 'file', type: file.type || undefined, data: Buffer.from(await file.arrayBuffer()) }).id;
      }
      const body = field('body');
      if (!body && attachmentId === null) return back('Write a message or choose a file');
      const result = await control.reply({ interactionId: id, body, attachmentId, privateReply: field('privateReply') === 'on' });
      const answer = result.error ?? JSON.stringify(result.answer);
      return back(`Reply ${result.id} on interaction ${id}: relay answered ${result.status || 'nothing'} ${answer ?? ''}`);
    }
    if (parts[0] === 'failures' && parts[1] === 'clear') {
      await control.clearFailures();
      return back('Failures cleared');
    }
    if (parts[0] === 'failures') {
      const status = Number(field('status'));
      const count = Number(field('count'));
      const slowMs = Number(field('slowMs'));
      const downSeconds = Number(field('downSeconds'));
      if (status) {
        control.setFailures({
          errors: { status, count: count > 0 ? count : null, retryAfter: field('retryAfter') || null },
        });
      }
      if (slowMs > 0) control.setFailures({ slow: { ms: slowMs } });
      if (downSeconds > 0) {
        res.on('finish', () => void control.down({ mode: 'refuse', forMs: downSeconds * 1000 }));
        return back(`Down (connections refused) for ${downSeconds} s`);
      }
      return back('Failure injection updated');
    }
    sendJson(res, 404, { message: `Not found: ${path}` });
  } catch (err) {
    const status = err instanceof HttpError || err instanceof ReplyError ? err.status : 400;
    if (path === '/' || res.headersSent) throw err;
    redirect(res, `/?flash=${encodeURIComponent(`Error ${status}: ${err instanceof Error ? err.message : String(err)}`)}`);
  }
}

function renderPage(ctx: SandboxContext, control: SandboxControl, flash: string | null): string {
  const accounts = control.accounts();
  const failures = control.failures();
  const stats = control.stats();
  const all = control.interactions();
  const interactions = all.slice(-MAX_INTERACTIONS_SHOWN);
  const attachments = control.attachments().slice(-50);

  const failureText: string[] = [];
  if (failures.down) failureText.push(`DOWN (${failures.down.mode}) since ${failures.down.since}${failures.down.until ? ` until ${failures.down.until}` : ''}`);
  if (failures.latencyMs) failureText.push(`latency ${failures.latencyMs} ms per notify`);
  if (failures.slow) failureText.push(`slow ${failures.slow.ms} ms (${failures.slow.remaining ?? 'all'}) on ${failures.slow.targets.join(', ')}`);
  for (const e of failures.errors) {
    failureText.push(`answer ${e.status}${e.retryAfter ? ` Retry-After: ${e.retryAfter}` : ''} to ${e.remaining ?? 'all'} ${e.targets.join(', ')}`);
  }

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Contact-center sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem 1.5rem;color:#222}
h1{font-size:1.4rem;margin:.2rem 0} h2{font-size:1.15rem;margin-top:1.6rem;border-bottom:1px solid #ddd}
h3{font-size:1rem;margin:1rem 0 .3rem} code{background:#f3f3f3;padding:0 .25rem;border-radius:3px;word-break:break-all}
table{border-collapse:collapse;width:100%} td,th{border:1px solid #ddd;padding:.35rem .5rem;vertical-align:top;text-align:left}
.flash{background:#fff7d6;border:1px solid #e6cf72;padding:.5rem .75rem;border-radius:4px}
.interaction{border:1px solid #ddd;border-radius:6px;padding:.5rem .75rem;margin:.5rem 0}
.msg{margin:.25rem 0;padding:.3rem .5rem;border-radius:5px;max-width:80%}
.in{background:#eef4ff}.out{background:#eaf7ea;margin-left:auto}
.meta{color:#666;font-size:12px}.bad{color:#b00020}.ok{color:#1b7a1b}
form.inline{display:inline} input[type=text],input[type=url]{width:22rem}
</style></head><body>
<h1>Contact-center sandbox</h1>
<p class="meta">Open Channel emulator (XCALLY Motion shaped) at <code>${h(ctx.publicUrl())}</code> ·
${stats.accounts} accounts · ${stats.contacts} contacts · ${stats.interactions} interactions · ${stats.notifications} notifications · <a href="/">refresh</a></p>
${flash ? `<p class="flash">${h(flash)}</p>` : ''}

<h2>Open Channel accounts</h2>
<table><tr><th>Account</th><th>Receive URL (paste into the relay)</th><th>Reply URL (paste the relay's here)</th><th>Contact list</th></tr>
${accounts.map((a) => renderAccount(control, a)).join('\n')}
</table>
<details><summary>New account</summary>
<form method="post" action="/_ui/accounts">
id <input name="id" size="4" placeholder="auto"> name <input name="name" placeholder="Open Channel"> API key <input name="apiKey" placeholder="(none)">
Reply URL <input type="url" name="replyUrl"> <button>Create</button></form></details>

<h2>Interactions</h2>
${interactions.length === 0 ? '<p class="meta">Nothing received yet.</p>' : ''}
${all.length > interactions.length ? `<p class="meta">Showing the latest ${interactions.length} of ${all.length}.</p>` : ''}
${renderInteractions(interactions)}

<h2>Attachments</h2>
${attachments.length === 0 ? '<p class="meta">None.</p>' : `<ul>${attachments.map((a) => `<li><a href="/_ui/attachments/${a.id}">#${a.id} ${h(a.name)}</a> <span class="meta">${h(a.type)}, ${a.size} bytes</span></li>`).join('')}</ul>`}

<h2>Failure injection</h2>
<p>${failureText.length ? failureText.map(h).join('<br>') : '<span class="ok">none: answering normally</span>'}</p>
<form method="post" action="/_ui/failures">
answer the next <input name="count" size="3" placeholder="all"> notifies with status <input name="status" size="3" placeholder="500">
Retry-After <input name="retryAfter" size="3" placeholder="s"> · slow <input name="slowMs" size="5" placeholder="ms"> ms ·
down for <input name="downSeconds" size="3" placeholder="s"> s <button>Apply</button></form>
<form method="post" action="/_ui/failures/clear"><button>Clear all failures</button></form>
</body></html>`;
}

function renderAccount(control: SandboxControl, a: Account): string {
  return `<tr><td><b>#${a.id}</b> ${h(a.name)}<br><span class="meta">API key: ${a.apiKey ? `<code>${h(a.apiKey)}</code>` : 'none'} · mapKey <code>${h(a.mapKey)}</code>${a.signingSecret ? ' · signatures checked' : ''}</span></td>
<td><code>${h(control.receiveUrl(a.id))}</code><br><span class="meta">Motion 1: <code>${h(control.receiveUrl(a.id, 'receive'))}</code></span></td>
<td><form method="post" action="/_ui/accounts/${a.id}/reply-url"><input type="url" name="replyUrl" value="${h(a.replyUrl ?? '')}" placeholder="https://relay/api/reply?token=..."> <button>Save</button></form></td>
<td>${a.listDeleted
    ? `<span class="bad">deleted (account answers 404)</span><form method="post" action="/_ui/accounts/${a.id}/list-restore"><button>Restore list</button></form>`
    : `<span class="ok">list #${a.listId}</span><form method="post" action="/_ui/accounts/${a.id}/list-delete"><button>Delete list</button></form>`}</td></tr>`;
}

function renderInteractions(interactions: InteractionView[]): string {
  // Grouped by contact, then one box per interaction (one per threadId, Messenger chat = no thread).
  const byContact = new Map<number, InteractionView[]>();
  for (const i of interactions) {
    const list = byContact.get(i.contact.id) ?? [];
    list.push(i);
    byContact.set(i.contact.id, list);
  }
  const out: string[] = [];
  for (const list of byContact.values()) {
    const c = list[0].contact;
    const name = c.name || [c.firstName, c.lastName].filter(Boolean).join(' ') || '(no name)';
    out.push(`<h3>${h(name)} <span class="meta">contact #${c.id} · account #${c.accountId} · ${h(c.mapKey)} = <code>${h(c.from)}</code></span></h3>`);
    for (const i of list) out.push(renderInteraction(i));
  }
  return out.join('\n');
}

function renderInteraction(i: InteractionView): string {
  const shown = i.messages.slice(-MAX_MESSAGES_SHOWN);
  const kind = i.threadId
    ? `Wall thread <code>${h(i.threadId)}</code>${i.externalUrl && /^https?:\/\//i.test(i.externalUrl) ? ` · <a href="${h(i.externalUrl)}" rel="noreferrer">on Facebook</a>` : ''}`
    : 'Messenger chat';
  return `<div class="interaction"><div><b>Interaction #${i.id}</b> · ${kind}${i.closed ? ' · <span class="bad">closed</span>' : ''}
${i.closed ? '' : `<form class="inline" method="post" action="/_ui/interactions/${i.id}/close"><button>Close</button></form>`}</div>
${i.messages.length > shown.length ? `<p class="meta">${i.messages.length - shown.length} earlier messages not shown</p>` : ''}
${shown.map(renderMessage).join('\n')}
<form method="post" action="/_ui/interactions/${i.id}/reply" enctype="multipart/form-data">
<input type="text" name="body" placeholder="Reply as an agent"> <input type="file" name="file">
${i.threadId ? '<label><input type="checkbox" name="privateReply"> private reply</label>' : ''} <button>Send</button></form></div>`;
}

function renderMessage(m: Message): string {
  const attachment = m.attachmentId !== null ? ` · <a href="/_ui/attachments/${h(m.attachmentId)}">attachment #${h(m.attachmentId)}</a>` : '';
  let meta = `#${m.id} · ${h(m.at)}`;
  if (m.direction === 'in') {
    if (m.event) meta += ` · ${h(m.event)}`;
    if (m.deliveryId) meta += ` · delivery <code>${h(m.deliveryId)}</code>`;
  } else if (m.reply) {
    const r = m.reply;
    const cls = r.ok ? 'ok' : 'bad';
    meta += ` · agent → <code>${h(r.url)}</code>: <span class="${cls}">${r.status || 'no answer'} ${h(r.error ?? JSON.stringify(r.answer))}</span>`;
  } else {
    meta += ' · sending…';
  }
  return `<div class="msg ${m.direction}">${h(m.body)}${attachment}<div class="meta">${meta}</div></div>`;
}
