/**
 * The one way pages talk to the relay: JSON in and out, the session cookie sent by the browser,
 * the CSRF token echoed from the XSRF-TOKEN cookie on every state-changing request, and every
 * error turned into an ApiError carrying the API's plain-words message.
 */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The relay answered with status ${status}.`);
    this.status = status;
    this.code = body?.error || 'unknown';
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function readCookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split('; ').find((part) => part.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : undefined;
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = readCookie('XSRF-TOKEN');
  if (UNSAFE.has(method) && token) headers['X-XSRF-TOKEN'] = token;
  let response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { message: 'The relay could not be reached. Check your connection and try again.', error: 'network' });
  }
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: `The relay answered with status ${response.status} and no readable message.` };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});
export const patch = (path, body) => api('PATCH', path, body ?? {});
export const del = (path, body) => api('DELETE', path, body);
