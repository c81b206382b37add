import { metaJson, signatureHeaders } from '../../sandbox/facebook/webhooks';

/** Facebook's wire format and signature, exactly as the Facebook sandbox produces them. */
export { metaJson };

export function hubSignature(body: string | Buffer, appSecret: string): string {
  return signatureHeaders(body, appSecret)['x-hub-signature-256'];
}

/** POSTs a webhook body to the relay, signed with the app secret unless `signature` overrides it. */
export async function postWebhook(relayUrl: string, appSecret: string, payload: unknown, options: { signature?: string | null; raw?: string; headers?: Record<string, string> } = {}) {
  const body = options.raw ?? metaJson(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  const signature = options.signature === undefined ? hubSignature(body, appSecret) : options.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const response = await fetch(`${relayUrl}/webhooks/facebook`, { method: 'POST', headers, body });
  return { status: response.status, body: await response.text(), headers: Object.fromEntries(response.headers) };
}

export function messaging(pageId: string, events: object[], time = Date.now()) {
  return { id: pageId, time, messaging: events };
}

export function feed(pageId: string, values: object[], time = Math.floor(Date.now() / 1000)) {
  return { id: pageId, time, changes: values.map((value) => ({ field: 'feed', value })) };
}

export function page(...entries: object[]) {
  return { object: 'page', entry: entries };
}

let seq = 0;
export function textEvent(pageId: string, psid: string, text: string, extra: Record<string, unknown> = {}, timestamp = Date.now()) {
  return { sender: { id: psid }, recipient: { id: pageId }, timestamp, message: { mid: `m_${Date.now()}_${++seq}`, text, ...extra } };
}
