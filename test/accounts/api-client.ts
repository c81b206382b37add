import { randomInt } from 'node:crypto';
import { TestApp } from '../support/test-app';
import { cookieJar } from '../support/tenant-client';

/** A caller from its own fake client IP, so per-IP limits of one test do not leak into another. */
export function anonymous(relay: TestApp, ip = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${relay.url}${path}`, {
      method,
      headers: { 'x-forwarded-for': ip, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return {
    ip,
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    call,
    /** Logs in and returns a caller that carries the cookies (and the XSRF header unless told not to). */
    async login(email: string, password: string) {
      const res = await fetch(`${relay.url}/api/v1/auth/login`, {
        method: 'POST', headers: { 'x-forwarded-for': ip, 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
      });
      if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
      const jar = cookieJar(res.headers);
      const setCookies = res.headers.getSetCookie();
      return {
        setCookies,
        jar,
        call: (method: string, path: string, body?: unknown, options: { csrf?: string | null } = {}) => {
          const csrf = options.csrf === undefined ? jar.get('XSRF-TOKEN')! : options.csrf;
          return call(method, path, body, { cookie: jar.header(), ...(csrf === null ? {} : { 'x-xsrf-token': csrf }) });
        },
      };
    },
  };
}
