import { isIP } from 'node:net';
import { isPrivateAddress } from '../common/http/private-addresses';

export const MAX_URL_LENGTH = 2048;

/**
 * Checks an Openchannel (Receive) URL before anything is called: http(s) only, no credentials in
 * the URL (the API key has its own field), and no loopback or private address when
 * ALLOW_PRIVATE_TARGETS is false. Returns a sentence for the tenant, or null when it is fine.
 * Proxy URLs (`https://<proxy>/api/openchannel/accounts/{ID}/notify?token={TOKEN}`) pass unchanged.
 */
export function openchannelUrlProblem(raw: string, allowPrivateTargets: boolean): string | null {
  if (raw.length > MAX_URL_LENGTH) return `The Openchannel URL is longer than ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'The Openchannel URL is not a valid address: paste the Receive URL of the Open Channel account, starting with https://';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `The Openchannel URL must start with https:// (or http://), not ${url.protocol.replace(':', '')}:`;
  }
  if (url.username || url.password) {
    return 'The Openchannel URL must not contain a user name or password: put the API key in its own field';
  }
  if (!url.hostname) return 'The Openchannel URL has no host name';
  if (!allowPrivateTargets) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if ((isIP(host) && isPrivateAddress(host)) || host === 'localhost' || host.endsWith('.localhost')) {
      return `The Openchannel URL points at ${url.hostname}, a private or local address the relay does not call: use the contact center's public https address (or its proxy)`;
    }
  }
  return null;
}
