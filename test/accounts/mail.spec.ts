import { newId } from '../../src/common/ids';
import { MailService } from '../../src/mail/mail.service';
import { backends } from '../support/backends';
import { recipients, SmtpTestServer, startSmtpTestServer } from './smtp-test-server';
import { latestCode } from '../support/tenant-client';
import { freePort, startTestApp, TestApp } from '../support/test-app';
import { anonymous } from './api-client';

const PASSWORD = 'a long enough secret 42';

describe.each(backends())('account mail over SMTP on %s', (backend) => {
  let smtp: SmtpTestServer;
  let relay: TestApp;
  beforeAll(async () => {
    smtp = await startSmtpTestServer();
    relay = await startTestApp({ backend, env: { SMTP_URL: smtp.url, MAIL_FROM: 'Relay <relay@example.org>' } });
  });
  afterAll(async () => {
    await relay?.close();
    await smtp?.close();
  });

  const to = (email: string) => (mail: { to?: unknown }) => recipients(mail as never).includes(email);

  it('mails the activation code through the SMTP server; the code activates the account', async () => {
    const client = anonymous(relay);
    const email = `smtp-${newId()}@example.com`;
    expect((await client.post('/api/v1/auth/register', { email, password: PASSWORD })).status).toBe(201);
    const mail = await smtp.waitFor(to(email));
    expect(mail.from?.value[0]).toEqual({ address: 'relay@example.org', name: 'Relay' });
    expect(mail.subject).toBe('Your Open Channel Relay activation code');
    const code = /activation code is: (\d{6})/.exec(mail.text ?? '')![1];
    expect((await client.post('/api/v1/auth/activate', { email, code })).status).toBe(200);
    await client.login(email, PASSWORD);
    expect(relay.get(MailService).sandboxOutbox()).toEqual([]);
  });

  it('mails a password reset code that resets the password', async () => {
    const client = anonymous(relay);
    const email = `smtp-${newId()}@example.com`;
    await client.post('/api/v1/auth/register', { email, password: PASSWORD });
    const activation = await smtp.waitFor(to(email));
    await client.post('/api/v1/auth/activate', { email, code: /(\d{6})/.exec(activation.text ?? '')![1] });
    await client.post('/api/v1/auth/password/forgot', { email });
    const reset = await smtp.waitFor((mail) => to(email)(mail) && /reset/.test(mail.subject ?? ''));
    const code = /(\d{6})/.exec(reset.text ?? '')![1];
    expect((await client.post('/api/v1/auth/password/reset', { email, code, password: 'another good secret 5' })).status).toBe(200);
    await client.login(email, 'another good secret 5');
  });

  it('has no sandbox outbox when SMTP is configured', async () => {
    expect((await fetch(`${relay.url}/sandbox/outbox`)).status).toBe(404);
    expect((await fetch(`${relay.url}/sandbox/outbox/messages`)).status).toBe(404);
  });
});

describe('account mail when the SMTP server is unreachable', () => {
  let relay: TestApp;
  beforeAll(async () => {
    relay = await startTestApp({ env: { SMTP_URL: `smtp://127.0.0.1:${await freePort()}` } });
  });
  afterAll(() => relay?.close());

  it('answers 503 in plain words instead of failing silently', async () => {
    const res = await anonymous(relay).post('/api/v1/auth/register', { email: `down-${newId()}@example.com`, password: PASSWORD });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ statusCode: 503, error: 'mail_unavailable', message: expect.stringMatching(/could not send the e-mail/) });
  });
});

describe('account mail in sandbox mode (no SMTP_URL)', () => {
  let relay: TestApp;
  const logLines: string[] = [];
  beforeAll(async () => {
    relay = await startTestApp({ logLines });
  });
  afterAll(() => relay?.close());

  it('keeps the mail in the outbox page and logs that it did, without the code', async () => {
    const email = `sandbox-${newId()}@example.com`;
    await anonymous(relay).post('/api/v1/auth/register', { email, password: PASSWORD });
    const code = latestCode(relay, email);
    const page = await fetch(`${relay.url}/sandbox/outbox`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain(code);
    const json = (await (await fetch(`${relay.url}/sandbox/outbox/messages?to=${encodeURIComponent(email)}`)).json()) as any[];
    expect(json[0]).toMatchObject({ to: email, subject: 'Your Open Channel Relay activation code', text: expect.stringContaining(code) });
    const mailLog = logLines.filter((line) => line.includes('sandbox outbox'));
    expect(mailLog.length).toBeGreaterThan(0);
    expect(logLines.some((line) => line.includes(code))).toBe(false);
  });

  it('does not serve the outbox in production', async () => {
    const production = await startTestApp({
      env: { NODE_ENV: 'production', ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'), FACEBOOK_APP_ID: '1234567890', FACEBOOK_APP_SECRET: '0123456789abcdef0123456789abcdef', FACEBOOK_VERIFY_TOKEN: 'verify-token-123' },
    });
    try {
      expect((await fetch(`${production.url}/sandbox/outbox`)).status).toBe(404);
    } finally {
      await production.close();
    }
  });
});
