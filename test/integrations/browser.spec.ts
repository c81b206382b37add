import { Browser, BrowserContext, Page } from 'playwright-core';
import { TokenHealthCheck } from '../../src/integrations/token-health-check';
import { backends } from '../support/backends';
import { describeBrowser, launchBrowser } from '../support/browser';
import { registerAndLogin, TEST_PASSWORD } from '../support/tenant-client';
import { openChannelAccount, startWorld, World } from './support';

jest.setTimeout(120_000);

describeBrowser('web UI: connect Facebook and integrations in Chromium', () => {
  let world: World;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    world = await startWorld(backends()[0]);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: world.relay.url });
    page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) errors.push(message.text());
    });
  });
  afterEach(async () => {
    await context?.close();
    expect(errors.splice(0)).toEqual([]);
  });

  async function logIn(): Promise<string> {
    const tenant = await registerAndLogin(world.relay);
    await page.goto(`${world.relay.url}/#/login`);
    await page.getByLabel('E-mail address').fill(tenant.email);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Integrations' }).waitFor();
    return tenant.email;
  }

  it('connect → pick a page → bind (with an inline verification error first) → copy the Reply URL', async () => {
    await logIn();
    await page.getByRole('link', { name: 'Connect Facebook' }).click();
    await page.getByRole('heading', { name: 'New integration' }).waitFor();
    await page.getByText('Facebook is connected.').waitFor();
    await page.getByText('Connected to Facebook as').waitFor();

    const limited = page.getByRole('radio', { name: /Silva Family Blog/ });
    expect(await limited.isDisabled()).toBe(true);
    await page.getByText(/lacks the "Moderate" task/).first().waitFor();

    const cc = openChannelAccount(world, 'browser-key');
    await page.getByLabel('Name').fill('Bike store → Motion');
    await page.getByRole('radio', { name: /Ana’s Bike Store/ }).check();
    await page.getByLabel('Openchannel URL').fill(cc.url);
    await page.getByLabel('API key').fill('wrong-key');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.field-error').getByText(/refused the API key/).waitFor();

    await page.getByLabel('API key').fill(cc.apiKey);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/is ready: the Page Ana’s Bike Store is connected/).waitFor();
    await page.getByText(/paste it into the Open Channel account's Reply URL/).waitFor();
    const replyUrl = await page.getByLabel('Reply URL').inputValue();
    expect(replyUrl).toMatch(new RegExp(`^${world.relay.url}/api/reply\\?token=`));
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(replyUrl);

    await page.getByRole('link', { name: 'Open the integration' }).click();
    await page.locator('#token-state').getByText('Active token').waitFor();
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    await page.getByText(/events are stored but not forwarded/).first().waitFor();
  });

  it('shows a revoked token in red and re-activates with Facebook', async () => {
    await logIn();
    await page.getByRole('link', { name: 'Connect Facebook' }).click();
    await page.getByRole('heading', { name: 'New integration' }).waitFor();
    const cc = openChannelAccount(world);
    await page.getByLabel('Name').fill('Bakery');
    await page.getByRole('radio', { name: /Padaria Silva/ }).check();
    await page.getByLabel('Openchannel URL').fill(cc.url);
    await page.getByLabel('API key').fill(cc.apiKey);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('link', { name: 'Open the integration' }).click();
    await page.locator('#token-state').getByText('Active token').waitFor();

    world.fb.control.revokeToken({ userId: world.fb.seed!.users.ana });
    await world.relay.get(TokenHealthCheck).checkAll();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByText('Active token: needs re-authorization').waitFor();
    await page.getByText(/no longer accepts this integration's token/).waitFor();

    await page.getByRole('link', { name: 'Re-activate with Facebook' }).first().click();
    await page.getByText(/was re-activated with Facebook/).waitFor();
    expect(await page.locator('#token-state').textContent()).toBe('Active token');

    await page.goto(`${world.relay.url}/#/`);
    await page.getByRole('link', { name: 'Bakery' }).waitFor();
  });
});
