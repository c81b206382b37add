import { get, post } from './api.js';

/** The logged-in account, as GET /api/v1/me last answered (null when logged out). */
let me;

export async function currentUser({ refresh = false } = {}) {
  if (me !== undefined && !refresh) return me;
  try {
    me = await get('/api/v1/me');
  } catch (error) {
    if (error.status !== 401) throw error;
    me = null;
  }
  return me;
}

export function forgetUser() {
  me = undefined;
}

export async function logout() {
  await post('/api/v1/auth/logout');
  me = null;
}
