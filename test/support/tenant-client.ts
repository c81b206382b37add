import { randomInt } from 'node:crypto';
import { newId } from '../../src/common/ids';
import { MailService } from '../../src/mail/mail.service';
import { readBody } from './http';
import { TestApp } from './test-app';

export const TEST_PASSWORD = 'correct horse battery staple';

export interface TenantResponse {
  status: number;
  body: any;
  headers: Headers;
}

export interface TenantClient {
  tenantId: string;
  email: string;
  /** A JSON request with the session cookie and, on state-changing methods, the X-XSRF-TOKEN header. */
  request(method: string, path: string, body?: unknown): Promise<TenantResponse>;
}

/**
 * A tenant made through the real API: register, read the code from the sandbox outbox, activate,
 * log in. Each client comes from its own fake IP (X-Forwarded-For), so suites that create many
 * tenants do not run into the per-IP sign-up limits.
 */
export async function registerAndLogin(relay: TestApp, email = `tenant-${newId()}@example.com`): Promise<TenantClient> {
  const ip = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
  const post = (path: string, body: unknown) =>
    fetch(`${relay.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify(body) });

  const registered = await post('/api/v1/auth/register', { email, password: TEST_PASSWORD });
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${await registered.text()}`);
  const code = latestCode(relay, email);
  const activated = await post('/api/v1/auth/activate', { email, code });
  if (activated.status !== 200) throw new Error(`activate answered ${activated.status}: ${await activated.text()}`);
  const login = await post('/api/v1/auth/login', { email, password: TEST_PASSWORD });
  if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`);
  const cookies = cookieJar(login.headers);
  const tenant = (await login.json()) as { id: string };

  return {
    tenantId: tenant.id,
    email,
    async request(method, path, body) {
      const headers: Record<string, string> = { cookie: cookies.header(), 'x-forwarded-for': ip, accept: 'application/json' };
      if (!['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase())) headers['x-xsrf-token'] = cookies.get('XSRF-TOKEN') ?? '';
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${relay.url}${path}`, {
        method: method.toUpperCase(), headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual',
      });
      return { status: res.status, body: (await readBody(res)).body, headers: res.headers };
    },
  };
}

/** The 6-digit code of the newest mail to `email` in the in-process sandbox outbox. */
export function latestCode(relay: TestApp, email: string): string {
  const mail = relay.get(MailService).sandboxOutbox(email)[0];
  if (!mail) throw new Error(`No mail to ${email} in the sandbox outbox (is SMTP_URL set for this test app?)`);
  const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
  if (!code) throw new Error(`The newest mail to ${email} holds no 6-digit code: ${mail.subject}`);
  return code;
}

/** Minimal cookie jar: the cookies a response set, as a Cookie header. */
export function cookieJar(headers: Headers) {
  const values = new Map<string, string>();
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    values.set(pair.slice(0, eq).trim(), decodeURIComponent(pair.slice(eq + 1).trim()));
  }
  return {
    get: (name: string) => values.get(name),
    header: () => [...values].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; '),
  };
}
