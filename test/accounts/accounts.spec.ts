import { AccountsCleanup } from '../../src/accounts/accounts-cleanup';
import { Session } from '../../src/accounts/session.entity';
import { ThrottleCounter } from '../../src/accounts/throttle-counter.entity';
import { TenantLifecycle } from '../../src/accounts/tenant-lifecycle';
import { Tenant } from '../../src/accounts/tenant.entity';
import { VerificationCode } from '../../src/accounts/verification-code.entity';
import { newId } from '../../src/common/ids';
import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { MailService } from '../../src/mail/mail.service';
import { backends } from '../support/backends';
import { createIntegration } from '../support/fixtures';
import { latestCode, registerAndLogin, TEST_PASSWORD } from '../support/tenant-client';
import { startTestApp, TestApp } from '../support/test-app';
import { anonymous } from './api-client';

const PASSWORD = 'a long enough secret 42';

describe.each(backends())('accounts API on %s', (backend) => {
  let relay: TestApp;
  beforeAll(async () => {
    relay = await startTestApp({ backend });
  });
  afterAll(() => relay?.close());

  const freshEmail = () => `user-${newId()}@example.com`;
  const mails = (email: string) => relay.get(MailService).sandboxOutbox(email);

  async function activeAccount(client = anonymous(relay), email = freshEmail(), password = PASSWORD) {
    expect((await client.post('/api/v1/auth/register', { email, password })).status).toBe(201);
    expect((await client.post('/api/v1/auth/activate', { email, code: latestCode(relay, email) })).status).toBe(200);
    return { client, email, password };
  }

  describe('sign-up and activation', () => {
    it('registers, mails a 6-digit code, refuses login until activated, then logs in', async () => {
      const client = anonymous(relay);
      const email = freshEmail();
      const registered = await client.post('/api/v1/auth/register', { email, password: PASSWORD });
      expect(registered.status).toBe(201);
      expect(registered.body.message).toMatch(/6-digit code/);
      expect(mails(email)).toHaveLength(1);
      expect(mails(email)[0].subject).toBe('Your Open Channel Relay activation code');

      const early = await client.post('/api/v1/auth/login', { email, password: PASSWORD });
      expect(early.status).toBe(403);
      expect(early.body).toEqual({ statusCode: 403, error: 'not_activated', message: expect.stringMatching(/not activated yet.*code/) });

      const activated = await client.post('/api/v1/auth/activate', { email, code: latestCode(relay, email) });
      expect(activated.status).toBe(200);
      expect(activated.body.message).toMatch(/active/);

      const session = await client.login(email, PASSWORD);
      const me = await session.call('GET', '/api/v1/me');
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: expect.any(String), email });
    });

    it('normalises the e-mail address (case and spaces)', async () => {
      const client = anonymous(relay);
      const email = freshEmail();
      expect((await client.post('/api/v1/auth/register', { email: `  ${email.toUpperCase()} `, password: PASSWORD })).status).toBe(201);
      expect((await client.post('/api/v1/auth/activate', { email: email.toUpperCase(), code: latestCode(relay, email) })).status).toBe(200);
      await client.login(email, PASSWORD);
    });

    it.each([
      ['too short', 'short1!', /at least 10 characters/],
      ['on the common list', 'Password123', /too common/],
      ['one repeated character', 'aaaaaaaaaaaa', /too common/],
      ['containing the address', 'myname-is-longenough', /e-mail address/],
    ])('refuses a password %s with a plain 400', async (_label, password, message) => {
      const res = await anonymous(relay).post('/api/v1/auth/register', { email: `myname-${newId()}@example.com`.replace(/-[^@]+@/, '@'), password });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'weak_password', message: expect.stringMatching(message) });
    });

    it('refuses an invalid e-mail address and a missing password with 400', async () => {
      const client = anonymous(relay);
      const bad = await client.post('/api/v1/auth/register', { email: 'not-an-address', password: PASSWORD });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/email must be an e-mail address/);
      expect((await client.post('/api/v1/auth/register', { email: freshEmail() })).status).toBe(400);
    });

    it('answers a taken address exactly like a new one, tells the owner by mail and changes nothing', async () => {
      const { email } = await activeAccount();
      const fresh = await anonymous(relay).post('/api/v1/auth/register', { email: freshEmail(), password: PASSWORD });
      const taken = await anonymous(relay).post('/api/v1/auth/register', { email, password: 'an attacker password 99' });
      expect(taken.status).toBe(fresh.status);
      expect(taken.body).toEqual(fresh.body);
      expect(mails(email)[0].subject).toBe('You already have an Open Channel Relay account');
      expect(mails(email)[0].text).not.toMatch(/\b\d{6}\b/);
      await anonymous(relay).login(email, PASSWORD);
      expect((await anonymous(relay).post('/api/v1/auth/login', { email, password: 'an attacker password 99' })).status).toBe(401);
    });

    it('gives 401 with the same message for an unknown address and a wrong password', async () => {
      const { email } = await activeAccount();
      const unknown = await anonymous(relay).post('/api/v1/auth/login', { email: freshEmail(), password: PASSWORD });
      const wrong = await anonymous(relay).post('/api/v1/auth/login', { email, password: 'not the password at all' });
      expect(unknown.status).toBe(401);
      expect(wrong.status).toBe(401);
      expect(unknown.body).toEqual(wrong.body);
      expect(wrong.body.error).toBe('invalid_credentials');
    });

    it('stores codes hashed, allows 5 tries, then the code stops working', async () => {
      const client = anonymous(relay);
      const email = freshEmail();
      await client.post('/api/v1/auth/register', { email, password: PASSWORD });
      const code = latestCode(relay, email);
      const tenant = await relay.get(Database).repo(Tenant).findOneByOrFail({ email });
      const row = await relay.get(Database).repo(VerificationCode).findOneByOrFail({ tenantId: tenant.id });
      expect(row.codeHash).not.toContain(code);
      expect(row.codeHash).toMatch(/^[0-9a-f]{64}$/);

      const wrongCode = code === '000000' ? '111111' : '000000';
      for (let i = 1; i <= 4; i++) {
        const res = await client.post('/api/v1/auth/activate', { email, code: wrongCode });
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('invalid_code');
      }
      const fifth = await client.post('/api/v1/auth/activate', { email, code: wrongCode });
      expect(fifth.body).toMatchObject({ statusCode: 400, error: 'code_exhausted', message: expect.stringMatching(/new code/) });
      expect((await client.post('/api/v1/auth/activate', { email, code })).body.error).toBe('invalid_code');

      const resent = await client.post('/api/v1/auth/resend-code', { email });
      expect(resent.status).toBe(202);
      const newCode = latestCode(relay, email);
      expect((await client.post('/api/v1/auth/activate', { email, code: newCode })).status).toBe(200);
    });

    it('refuses an expired code', async () => {
      const client = anonymous(relay);
      const email = freshEmail();
      await client.post('/api/v1/auth/register', { email, password: PASSWORD });
      const tenant = await relay.get(Database).repo(Tenant).findOneByOrFail({ email });
      await relay.get(Database).repo(VerificationCode).update({ tenantId: tenant.id }, { expiresAt: new Date(Date.now() - 1000) });
      const res = await client.post('/api/v1/auth/activate', { email, code: latestCode(relay, email) });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_code');
    });

    it('refuses a code that is not 6 digits with a plain 400', async () => {
      const res = await anonymous(relay).post('/api/v1/auth/activate', { email: freshEmail(), code: '12ab' });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/code must be the 6 digits/);
    });

    it('answers resend the same for unknown, pending and active addresses, mailing only the pending one', async () => {
      const { email: active } = await activeAccount();
      const pending = freshEmail();
      await anonymous(relay).post('/api/v1/auth/register', { email: pending, password: PASSWORD });
      const before = mails(active).length;
      const answers = await Promise.all([freshEmail(), pending, active].map((email) => anonymous(relay).post('/api/v1/auth/resend-code', { email })));
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
      expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
      expect(mails(pending)).toHaveLength(2);
      expect(mails(active)).toHaveLength(before);
    });
  });

  describe('sessions and CSRF', () => {
    it('sets an httpOnly SameSite session cookie and a readable XSRF-TOKEN cookie; stores only a hash', async () => {
      const { client, email } = await activeAccount();
      const session = await client.login(email, PASSWORD);
      const sessionCookie = session.setCookies.find((c) => c.startsWith('relay_session='))!;
      const xsrfCookie = session.setCookies.find((c) => c.startsWith('XSRF-TOKEN='))!;
      expect(sessionCookie).toMatch(/HttpOnly/i);
      expect(sessionCookie).toMatch(/SameSite=Lax/i);
      expect(sessionCookie).toMatch(/Path=\//);
      expect(sessionCookie).not.toMatch(/Secure/i);
      expect(xsrfCookie).not.toMatch(/HttpOnly/i);
      const token = session.jar.get('relay_session')!;
      const rows = await relay.get(Database).repo(Session).find();
      expect(rows.some((row) => row.tokenHash === token)).toBe(false);
      expect(JSON.stringify(rows)).not.toContain(token);
    });

    it('answers 401 JSON without a session or with an unknown cookie', async () => {
      const none = await anonymous(relay).call('GET', '/api/v1/me');
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ statusCode: 401, error: 'not_logged_in', message: expect.stringMatching(/log in/i) });
      const forged = await anonymous(relay).call('GET', '/api/v1/me', undefined, { cookie: 'relay_session=made-up' });
      expect(forged.status).toBe(401);
    });

    it('refuses state-changing requests without the matching X-XSRF-TOKEN header', async () => {
      const { client, email } = await activeAccount();
      const session = await client.login(email, PASSWORD);
      const body = { currentPassword: PASSWORD, newPassword: 'another fine secret 7' };
      const missing = await session.call('POST', '/api/v1/me/password', body, { csrf: null });
      expect(missing.status).toBe(403);
      expect(missing.body.error).toBe('csrf_failed');
      expect((await session.call('POST', '/api/v1/me/password', body, { csrf: 'guessed' })).status).toBe(403);
      expect((await session.call('POST', '/api/v1/auth/logout', undefined, { csrf: null })).status).toBe(403);
      expect((await session.call('GET', '/api/v1/me', undefined, { csrf: null })).status).toBe(200);
    });

    it('does not accept the XSRF token of another session', async () => {
      const a = await activeAccount();
      const b = await activeAccount();
      const sessionA = await a.client.login(a.email, PASSWORD);
      const sessionB = await b.client.login(b.email, PASSWORD);
      const res = await anonymous(relay).call('POST', '/api/v1/auth/logout', undefined, {
        cookie: `relay_session=${sessionA.jar.get('relay_session')}; XSRF-TOKEN=${sessionB.jar.get('XSRF-TOKEN')}`,
        'x-xsrf-token': sessionB.jar.get('XSRF-TOKEN')!,
      });
      expect(res.status).toBe(403);
    });

    it('logout ends the session on the server', async () => {
      const { client, email } = await activeAccount();
      const session = await client.login(email, PASSWORD);
      const out = await session.call('POST', '/api/v1/auth/logout');
      expect(out.status).toBe(204);
      expect(out.headers.getSetCookie().join('\n')).toMatch(/relay_session=;/);
      expect((await session.call('GET', '/api/v1/me')).status).toBe(401);
    });

    it('registerAndLogin gives a client carrying the cookie and the XSRF header', async () => {
      const tenant = await registerAndLogin(relay);
      expect((await tenant.request('GET', '/api/v1/me')).body).toEqual({ id: tenant.tenantId, email: tenant.email });
      expect((await tenant.request('POST', '/api/v1/me/password', { currentPassword: TEST_PASSWORD, newPassword: 'brand new secret 77' })).status).toBe(204);
    });
  });

  describe('forgotten password', () => {
    it('answers the same for unknown and known addresses and mails a code only to the known one', async () => {
      const { email } = await activeAccount();
      const unknownEmail = freshEmail();
      const unknown = await anonymous(relay).post('/api/v1/auth/password/forgot', { email: unknownEmail });
      const known = await anonymous(relay).post('/api/v1/auth/password/forgot', { email });
      expect(unknown.status).toBe(202);
      expect(known.status).toBe(202);
      expect(unknown.body).toEqual(known.body);
      expect(mails(unknownEmail)).toHaveLength(0);
      expect(mails(email)[0].subject).toBe('Your Open Channel Relay password reset code');
    });

    it('resets the password with the code, ends every session, and keeps the code single-use', async () => {
      const { client, email } = await activeAccount();
      const session = await client.login(email, PASSWORD);
      await client.post('/api/v1/auth/password/forgot', { email });
      const code = latestCode(relay, email);
      expect((await client.post('/api/v1/auth/password/reset', { email, code: code === '000000' ? '111111' : '000000', password: 'my new secret 123' })).body.error).toBe('invalid_code');
      const weak = await client.post('/api/v1/auth/password/reset', { email, code, password: 'short' });
      expect(weak.body.error).toBe('weak_password');
      const reset = await client.post('/api/v1/auth/password/reset', { email, code, password: 'my new secret 123' });
      expect(reset.status).toBe(200);
      expect((await session.call('GET', '/api/v1/me')).status).toBe(401);
      expect((await client.post('/api/v1/auth/login', { email, password: PASSWORD })).status).toBe(401);
      await client.login(email, 'my new secret 123');
      expect((await client.post('/api/v1/auth/password/reset', { email, code, password: 'yet another secret 9' })).body.error).toBe('invalid_code');
    });

    it('activates a pending account, since the code proves the mailbox', async () => {
      const client = anonymous(relay);
      const email = freshEmail();
      await client.post('/api/v1/auth/register', { email, password: PASSWORD });
      await client.post('/api/v1/auth/password/forgot', { email });
      expect((await client.post('/api/v1/auth/password/reset', { email, code: latestCode(relay, email), password: 'my new secret 123' })).status).toBe(200);
      await client.login(email, 'my new secret 123');
    });
  });

  describe('change password and delete account', () => {
    it('changes the password after checking the current one; other sessions end, this one stays', async () => {
      const { client, email } = await activeAccount();
      const here = await client.login(email, PASSWORD);
      const elsewhere = await anonymous(relay).login(email, PASSWORD);
      const wrong = await here.call('POST', '/api/v1/me/password', { currentPassword: 'not my password!', newPassword: 'a new secret phrase' });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toMatchObject({ error: 'wrong_password', message: 'The current password is wrong.' });
      expect((await here.call('POST', '/api/v1/me/password', { currentPassword: PASSWORD, newPassword: 'qwertyuiop' })).body.error).toBe('weak_password');
      expect((await here.call('POST', '/api/v1/me/password', { currentPassword: PASSWORD, newPassword: 'a new secret phrase' })).status).toBe(204);
      expect((await here.call('GET', '/api/v1/me')).status).toBe(200);
      expect((await elsewhere.call('GET', '/api/v1/me')).status).toBe(401);
      await anonymous(relay).login(email, 'a new secret phrase');
    });

    it('deletes the account after password confirmation: clean-up hooks run, integrations and sessions go', async () => {
      const { client, email } = await activeAccount();
      const session = await client.login(email, PASSWORD);
      const tenantId = (await session.call('GET', '/api/v1/me')).body.id;
      const { integration } = await createIntegration(relay, { tenantId, openchannelUrl: 'http://127.0.0.1:9/oc' });
      const cleaned: string[] = [];
      relay.get(TenantLifecycle).onTenantDeleted(async (id) => {
        cleaned.push(id);
      });

      const wrong = await session.call('DELETE', '/api/v1/me', { password: 'not my password!' });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toBe('wrong_password');
      expect((await session.call('DELETE', '/api/v1/me', { password: PASSWORD }, { csrf: null })).status).toBe(403);

      const deleted = await session.call('DELETE', '/api/v1/me', { password: PASSWORD });
      expect(deleted.status).toBe(204);
      expect(cleaned).toEqual([tenantId]);
      const db = relay.get(Database);
      expect(await db.repo(Integration).findOneBy({ id: integration.id })).toBeNull();
      expect(await db.repo(Tenant).findOneBy({ id: tenantId })).toBeNull();
      expect(await db.repo(Session).findOneBy({ tenantId })).toBeNull();
      expect((await session.call('GET', '/api/v1/me')).status).toBe(401);
      expect((await anonymous(relay).post('/api/v1/auth/login', { email, password: PASSWORD })).status).toBe(401);
    });
  });

  describe('throttling', () => {
    it('limits login attempts per address with 429 and Retry-After, even from different IPs', async () => {
      const { email } = await activeAccount();
      for (let i = 0; i < 10; i++) {
        expect((await anonymous(relay).post('/api/v1/auth/login', { email, password: 'wrong password here' })).status).toBe(401);
      }
      const blocked = await anonymous(relay).post('/api/v1/auth/login', { email, password: PASSWORD });
      expect(blocked.status).toBe(429);
      expect(blocked.body).toMatchObject({ error: 'too_many_requests', message: expect.stringMatching(/Too many login attempts for this e-mail address\. Try again in \d+ minutes?\./) });
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(800);
    });

    it('limits login attempts per IP across addresses', async () => {
      const client = anonymous(relay);
      for (let i = 0; i < 50; i++) {
        expect((await client.post('/api/v1/auth/login', { email: `nobody-${i}-${newId()}@example.com`, password: 'whatever it is' })).status).toBe(401);
      }
      const blocked = await client.post('/api/v1/auth/login', { email: freshEmail(), password: 'whatever it is' });
      expect(blocked.status).toBe(429);
      expect(blocked.body.message).toMatch(/from your network/);
      expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    it('limits sign-ups per IP and per address', async () => {
      const client = anonymous(relay);
      const email = freshEmail();
      for (let i = 0; i < 5; i++) expect((await client.post('/api/v1/auth/register', { email, password: PASSWORD })).status).toBe(201);
      const perAddress = await anonymous(relay).post('/api/v1/auth/register', { email, password: PASSWORD });
      expect(perAddress.status).toBe(429);
      expect(perAddress.body.message).toMatch(/sign-ups for this e-mail address/);
      for (let i = 0; i < 15; i++) expect((await client.post('/api/v1/auth/register', { email: freshEmail(), password: PASSWORD })).status).toBe(201);
      const perIp = await client.post('/api/v1/auth/register', { email: freshEmail(), password: PASSWORD });
      expect(perIp.status).toBe(429);
      expect(perIp.body.message).toMatch(/sign-ups from your network/);
    });

    it('limits activation attempts per address beyond the per-code tries', async () => {
      const email = freshEmail();
      for (let i = 0; i < 10; i++) expect((await anonymous(relay).post('/api/v1/auth/activate', { email, code: '123456' })).status).toBe(400);
      const blocked = await anonymous(relay).post('/api/v1/auth/activate', { email, code: '123456' });
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    it('limits resending codes and reset requests per address', async () => {
      const email = freshEmail();
      await anonymous(relay).post('/api/v1/auth/register', { email, password: PASSWORD });
      for (let i = 0; i < 3; i++) expect((await anonymous(relay).post('/api/v1/auth/resend-code', { email })).status).toBe(202);
      const resend = await anonymous(relay).post('/api/v1/auth/resend-code', { email });
      expect(resend.status).toBe(429);
      expect(resend.body.message).toMatch(/new codes for this e-mail address/);
      expect(mails(email)).toHaveLength(4);
      for (let i = 0; i < 3; i++) expect((await anonymous(relay).post('/api/v1/auth/password/forgot', { email })).status).toBe(202);
      expect((await anonymous(relay).post('/api/v1/auth/password/forgot', { email })).status).toBe(429);
    });

    it('limits password reset attempts per address', async () => {
      const email = freshEmail();
      for (let i = 0; i < 10; i++) {
        expect((await anonymous(relay).post('/api/v1/auth/password/reset', { email, code: '123456', password: 'a new secret 12345' })).status).toBe(400);
      }
      expect((await anonymous(relay).post('/api/v1/auth/password/reset', { email, code: '123456', password: 'a new secret 12345' })).status).toBe(429);
    });

    it('starts a new window once the old one is over', async () => {
      const { email } = await activeAccount();
      for (let i = 0; i < 11; i++) await anonymous(relay).post('/api/v1/auth/login', { email, password: 'wrong password here' });
      expect((await anonymous(relay).post('/api/v1/auth/login', { email, password: PASSWORD })).status).toBe(429);
      await relay.get(Database).repo(ThrottleCounter).createQueryBuilder().update().set({ resetsAt: new Date(Date.now() - 1000) }).where('1 = 1').execute();
      expect((await anonymous(relay).post('/api/v1/auth/login', { email, password: PASSWORD })).status).toBe(200);
    });
  });
});

describe.each(backends())('expired rows on %s', (backend) => {
  let relay: TestApp;
  beforeAll(async () => {
    relay = await startTestApp({ backend });
  });
  afterAll(() => relay?.close());

  it('refuses an expired session and the hourly clean-up deletes expired sessions, codes and counters', async () => {
    const tenant = await registerAndLogin(relay);
    const db = relay.get(Database);
    const past = new Date(Date.now() - 1000);
    await db.repo(Session).update({ tenantId: tenant.tenantId }, { expiresAt: past });
    expect((await tenant.request('GET', '/api/v1/me')).status).toBe(401);

    await anonymous(relay).post('/api/v1/auth/register', { email: `expired-${newId()}@example.com`, password: PASSWORD });
    await registerAndLogin(relay);
    await db.repo(Session).createQueryBuilder().update().set({ expiresAt: past }).where('1 = 1').execute();
    await db.repo(VerificationCode).createQueryBuilder().update().set({ expiresAt: past }).where('1 = 1').execute();
    await db.repo(ThrottleCounter).createQueryBuilder().update().set({ resetsAt: past }).where('1 = 1').execute();
    await relay.get(AccountsCleanup).run();
    expect(await db.repo(Session).count()).toBe(0);
    expect(await db.repo(VerificationCode).count()).toBe(0);
    expect(await db.repo(ThrottleCounter).count()).toBe(0);
  });
});

describe.each(backends())('sessions shared between relay processes on %s', (backend) => {
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
    first = await startTestApp({ backend, env: { ENCRYPTION_KEY } });
    const shared = first.config.database.kind === 'mysql'
      ? { DATABASE_URL: first.config.database.url }
      : { DATA_DIR: first.config.dataDir };
    second = await startTestApp({ backend, env: { ENCRYPTION_KEY, ...shared } });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('accepts on one process a session made on the other, and logout on one ends it on both', async () => {
    const client = anonymous(first);
    const email = `shared-${newId()}@example.com`;
    await client.post('/api/v1/auth/register', { email, password: PASSWORD });
    await client.post('/api/v1/auth/activate', { email, code: latestCode(first, email) });
    const session = await client.login(email, PASSWORD);
    const cookies = { cookie: session.jar.header() };
    const viaSecond = anonymous(second, client.ip);
    expect((await viaSecond.call('GET', '/api/v1/me', undefined, cookies)).body.email).toBe(email);
    const out = await viaSecond.call('POST', '/api/v1/auth/logout', undefined, { ...cookies, 'x-xsrf-token': session.jar.get('XSRF-TOKEN')! });
    expect(out.status).toBe(204);
    expect((await session.call('GET', '/api/v1/me')).status).toBe(401);
  });
});

describe('Secure cookies', () => {
  let relay: TestApp;
  beforeAll(async () => {
    relay = await startTestApp({ env: { PUBLIC_URL: 'https://relay.example.com' } });
  });
  afterAll(() => relay?.close());

  it('marks the cookies Secure when PUBLIC_URL is https', async () => {
    const client = anonymous({ ...relay, url: `http://127.0.0.1:${relay.config.port}` });
    const email = `secure-${newId()}@example.com`;
    await client.post('/api/v1/auth/register', { email, password: PASSWORD });
    await client.post('/api/v1/auth/activate', { email, code: latestCode(relay, email) });
    const session = await client.login(email, PASSWORD);
    for (const cookie of session.setCookies) expect(cookie).toMatch(/; Secure/i);
  });
});
