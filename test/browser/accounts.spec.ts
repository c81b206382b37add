import { Browser, Page } from 'playwright-core';
import { Tenant } from '../../src/accounts/tenant.entity';
import { newId } from '../../src/common/ids';
import { Database } from '../../src/database/database';
import { createIntegration } from '../support/fixtures';
import { describeBrowser, launchBrowser } from '../support/browser';
import { latestCode } from '../support/tenant-client';
import { startTestApp, TestApp } from '../support/test-app';

const PASSWORD = 'purple elephants dance 7';
const NEW_PASSWORD = 'seven green lanterns 42';

// Chromium shares two cores with the rest of the suite: give whole flows room.
jest.setTimeout(120_000);

describeBrowser('web UI: accounts in Chromium', () => {
  let relay: TestApp;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    relay = await startTestApp();
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await relay?.close();
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      // 4xx answers are part of the flows under test; the browser logs each as a failed resource.
      if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) errors.push(message.text());
    });
  });
  afterEach(async () => {
    await page?.close();
    expect(errors.splice(0)).toEqual([]);
  });

  it('signs up, activates with the mailed code, logs in and out, and recovers a forgotten password', async () => {
    const email = `browser-${newId()}@example.com`;
    await page.goto(`${relay.url}/`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();

    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill('password123');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectText(page, '.field-error', /too common/);

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Activate your account' }).waitFor();
    await page.getByText(/we sent a 6-digit code/).waitFor();
    expect(await page.getByLabel('E-mail address').inputValue()).toBe(email);

    await page.getByLabel('Activation code').fill('000000' === latestCode(relay, email) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Activate' }).click();
    await expectText(page, '.field-error', /code is not valid/);

    await page.getByLabel('Activation code').fill(latestCode(relay, email));
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByText('Your account is active. You can log in now.').waitFor();

    await page.getByLabel('Password').fill('not the right one');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').getByText('The e-mail address or the password is wrong.').waitFor();

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Integrations' }).waitFor();
    await page.getByText(email).waitFor();

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByText('You are logged out.').waitFor();
    const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
    expect(me).toBe(401);

    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await page.getByLabel('E-mail address').fill(email);
    await page.getByRole('button', { name: 'Send a reset code' }).click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.getByLabel('Reset code').fill(latestCode(relay, email));
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('Your password was changed. Log in with the new password.').waitFor();

    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Integrations' }).waitFor();
    await page.getByRole('heading', { name: 'Connect your first Facebook Page' }).waitFor();
    const connect = page.getByRole('link', { name: 'Connect Facebook' });
    expect(await connect.getAttribute('href')).toBe('/api/v1/facebook/connect');
    await page.screenshot({ path: '/tmp/relay-dashboard.png', fullPage: true });
  });

  it('sends a logged-out visitor of a private page to the login and back after logging in', async () => {
    const email = `browser-${newId()}@example.com`;
    await registerViaApi(relay, email);
    await page.goto(`${relay.url}/#/account`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Account', exact: true }).waitFor();

    await page.getByLabel('Current password').fill('wrong password!!');
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expectText(page, '.field-error', /current password is wrong/);

    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Delete account' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete your account?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Delete account' }).click();
    await page.getByText('Your account was deleted.').waitFor();
    await page.screenshot({ path: '/tmp/relay-deleted.png' });
  });

  it('lists integrations on the dashboard with their state at a glance', async () => {
    const email = `browser-${newId()}@example.com`;
    await registerViaApi(relay, email);
    const tenant = await relay.get(Database).repo(Tenant).findOneByOrFail({ email });
    const openchannelUrl = 'http://127.0.0.1:9/openchannel';
    await createIntegration(relay, { tenantId: tenant.id, openchannelUrl, pageName: 'Bakery Lisbon' });
    await createIntegration(relay, { tenantId: tenant.id, openchannelUrl, pageName: 'Bakery Porto', status: 'reauth_required' });
    await createIntegration(relay, { tenantId: tenant.id, openchannelUrl, pageName: 'Bakery Faro', enabled: false });
    await page.goto(`${relay.url}/#/login?email=${encodeURIComponent(email)}`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    const list = page.getByRole('list', { name: 'Integrations' });
    await list.waitFor();
    expect(await list.getByRole('listitem').count()).toBe(3);
    await list.getByRole('listitem').filter({ hasText: 'Bakery Porto' }).getByText('Needs re-authorization').waitFor();
    await list.getByRole('listitem').filter({ hasText: 'Bakery Faro' }).getByText('Disabled').waitFor();
    await list.getByRole('listitem').filter({ hasText: 'Bakery Lisbon' }).getByText('Active').waitFor();
    await page.screenshot({ path: '/tmp/relay-dashboard-list.png', fullPage: true });
  });

  it('shows a field error for an invalid address next to the field', async () => {
    await page.goto(`${relay.url}/#/signup`);
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    await page.getByLabel('E-mail address').fill('not-an-address');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectText(page, '.field-error', /Email must be an e-mail address/);
    expect(await page.getByLabel('E-mail address').getAttribute('aria-invalid')).toBe('true');
  });
});

async function registerViaApi(relay: TestApp, email: string): Promise<void> {
  const post = (path: string, body: unknown) => fetch(`${relay.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.9.9.9' }, body: JSON.stringify(body) });
  await post('/api/v1/auth/register', { email, password: PASSWORD });
  const res = await post('/api/v1/auth/activate', { email, code: latestCode(relay, email) });
  if (res.status !== 200) throw new Error(`activation failed: ${await res.text()}`);
}

async function expectText(page: Page, selector: string, pattern: RegExp): Promise<void> {
  await page.locator(selector).filter({ hasText: pattern }).first().waitFor({ state: 'visible' });
}
