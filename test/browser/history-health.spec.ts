import { deflateSync, crc32 } from 'node:zlib';
import { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { newId } from '../../src/common/ids';
import { Database } from '../../src/database/database';
import { Message } from '../../src/relay/message.entity';
import { backends } from '../support/backends';
import { describeBrowser, launchBrowser } from '../support/browser';
import { TEST_PASSWORD } from '../support/tenant-client';
import { APP, connectFacebook, openChannelAccount, startWorld, TenantBrowser, World } from '../integrations/support';

// Chromium shares two cores with the rest of the suite: give whole flows room.
jest.setTimeout(180_000);

/**
 * A tenant's "my messages don't arrive" minute, in Chromium against the real relay and both
 * sandboxes: the health chart, history search, a conversation with an image, a failed delivery
 * with its reason and attempts, replayed once; the audit log and the opening hours.
 */
describeBrowser('web UI: history, deliveries and health in Chromium', () => {
  let world: World;
  let tenant: TenantBrowser;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let integrationId: string;
  let accountId: number;
  const errors: string[] = [];
  const maria = () => world.fb.seed!.customers.maria;
  const joao = () => world.fb.seed!.customers.joao;

  beforeAll(async () => {
    world = await startWorld(backends()[0]);
    await world.fb.control.configureWebhook({ callbackUrl: `${world.relay.url}/webhooks/facebook`, verifyToken: APP.verifyToken });
    tenant = await TenantBrowser.create(world.relay);
    await connectFacebook(world, tenant);
    const cc = openChannelAccount(world);
    accountId = cc.account.id;
    const created = await tenant.request('POST', '/api/v1/integrations', {
      name: 'Bike store', pageId: world.fb.seed!.pages.store, openchannelUrl: cc.url, apiKey: cc.apiKey,
    });
    expect(created.status).toBe(201);
    integrationId = created.body.id;
    world.cc.control.setReplyUrl(accountId, created.body.replyUrl);

    // Customers write (one with a photo), an agent answers, and one message is refused for good.
    world.fb.control.events.customerMessage({
      psid: maria(), text: 'My bike has a flat tyre, can you fix it?',
      attachments: [{ type: 'image', filename: 'flat-tyre.png', contentType: 'image/png', dataBase64: samplePng().toString('base64') }],
    });
    world.fb.control.events.customerMessage({ psid: joao(), text: 'Do you sell helmets?' });
    await world.cc.control.waitForNotifications(3, { accountId, acceptedOnly: true, timeoutMs: 15_000 });
    const reply = await world.cc.control.reply({ accountId, contactFrom: maria(), body: 'Yes, bring it in today.' });
    expect(reply.status).toBe(200);

    await world.cc.control.setFailures({ errors: { status: 400, count: 1, message: 'The contact list is full' } });
    world.fb.control.events.customerMessage({ psid: joao(), text: 'Where is my helmet order?' });
    await waitFor('the refused message to fail', async () => {
      const failed = await tenant.get(`/api/v1/integrations/${integrationId}/messages?status=failed`);
      return failed.body?.total === 1;
    });

    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) errors.push(message.text());
    });
    await page.goto(`${world.relay.url}/#/login`);
    await page.getByLabel('E-mail address').fill(tenant.email);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Integrations' }).waitFor();
  });
  afterEach(async () => {
    await context?.close();
    expect(errors.splice(0)).toEqual([]);
  });

  it('shows the health figures in words and draws the 24-hour and 7-day chart', async () => {
    await page.getByRole('link', { name: 'Bike store' }).click();
    await page.getByRole('tab', { name: 'Overview' }).waitFor();
    expect(await page.getByRole('tab', { name: 'Overview' }).getAttribute('aria-selected')).toBe('true');
    const figures = page.locator('.figures');
    await figures.getByText('Last event from Facebook').waitFor();
    await figures.getByText('Failures in the last hour').waitFor();
    expect(await figures.locator('.figure', { hasText: 'Token' }).first().textContent()).toContain('active');
    expect(await figures.locator('.figure', { hasText: 'Last event from Facebook' }).textContent()).toMatch(/just now|min ago/);

    const chart = page.locator('svg.chart');
    await chart.waitFor();
    const inBars = await barHeights(page, 'in');
    expect(inBars.filter(([count, height]) => count > 0 && height > 0).length).toBeGreaterThanOrEqual(1);
    expect(inBars.reduce((sum, [count]) => sum + count, 0)).toBeGreaterThanOrEqual(3);
    expect((await barHeights(page, 'out')).reduce((sum, [count]) => sum + count, 0)).toBeGreaterThanOrEqual(1);
    expect(await page.locator('svg.chart .chart-tick').count()).toBeGreaterThan(5);
    expect(await page.locator('svg.chart title').first().textContent()).toMatch(/Messages and delivery time over the last 24 hours/);
    await page.locator('.chart-table summary').click();
    await page.getByRole('table', { name: /Messages and delivery time per hour/ }).waitFor();
    await page.screenshot({ path: '/tmp/relay-health.png', fullPage: true });

    await page.getByRole('button', { name: 'Last 7 days' }).click();
    await page.locator('svg.chart title', { hasText: 'the last 7 days' }).waitFor({ state: 'attached' });
    expect(await page.getByRole('button', { name: 'Last 7 days' }).getAttribute('aria-pressed')).toBe('true');
    expect((await barHeights(page, 'in')).reduce((sum, [count]) => sum + count, 0)).toBeGreaterThanOrEqual(3);
    await page.locator('svg.chart').screenshot({ path: '/tmp/relay-health-7d.png' });

    // Tabs work from the keyboard.
    await page.getByRole('tab', { name: 'Overview' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'History' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('History');
  });

  it('searches the history by text and by customer, and opens a conversation with its photo', async () => {
    await page.goto(`${world.relay.url}/#/integrations/${integrationId}?tab=history`);
    await page.getByRole('heading', { name: 'Search conversations' }).waitFor();
    await page.getByText(/2 conversations found/).waitFor();

    await page.getByLabel('Text').fill('flat tyre');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 conversation found. Page 1 of 1.').waitFor();
    const results = page.getByRole('list', { name: 'Conversations found' });
    expect(await results.getByRole('listitem').count()).toBe(1);
    await results.getByRole('link', { name: 'María Müller' }).waitFor();
    expect(page.url()).toContain('q=flat+tyre');

    await page.getByLabel('Text').fill('');
    await page.getByLabel('Customer').fill('joão');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 conversation found. Page 1 of 1.').waitFor();
    await results.getByRole('link', { name: 'João Pereira' }).waitFor();
    await page.screenshot({ path: '/tmp/relay-history.png', fullPage: true });

    await page.getByLabel('Customer').fill('nobody-like-this');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No conversation matches this search.').waitFor();

    await page.getByLabel('Customer').fill('María');
    await page.getByRole('button', { name: 'Search' }).click();
    await results.getByRole('link', { name: 'María Müller' }).click();
    await page.getByRole('heading', { name: 'Messenger conversation with María Müller' }).waitFor();
    const thread = page.getByRole('list', { name: 'Messages with María Müller' });
    const customerSide = thread.locator('.from-customer');
    const pageSide = thread.locator('.from-page');
    await customerSide.getByText('My bike has a flat tyre, can you fix it?').waitFor();
    await pageSide.getByText('Yes, bring it in today.').waitFor();
    const image = customerSide.getByRole('img', { name: 'Image: flat-tyre.png' });
    await image.waitFor();
    await untilTrue(page, 'document.querySelector("img.attachment-image")?.complete');
    expect(await page.evaluate('document.querySelector("img.attachment-image").naturalWidth')).toBe(96);
    // Thread order: the customer's message (text, then the photo) before the agent's answer.
    const order = await thread.locator('.bubble-row').evaluateAll((rows) => rows.map((row) => row.className.includes('from-page') ? 'page' : 'customer'));
    expect(order).toEqual(['customer', 'customer', 'page']);
    await page.screenshot({ path: '/tmp/relay-conversation.png', fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: '/tmp/relay-conversation-mobile.png', fullPage: true });

    await page.getByRole('link', { name: '← Back to the history' }).click();
    await page.getByRole('heading', { name: 'Search conversations' }).waitFor();
    expect(await page.getByLabel('Customer').inputValue()).toBe('María');
  });

  it('lists the failed delivery with its reason and attempts, and replays it once', async () => {
    await page.goto(`${world.relay.url}/#/`);
    await page.getByRole('link', { name: 'Bike store' }).waitFor();
    await page.screenshot({ path: '/tmp/relay-dashboard-failing.png' });
    await page.getByText(/1 failed delivery in the last 24 hours/).waitFor();
    await page.locator('.badge', { hasText: 'Failing deliveries' }).waitFor();

    await page.getByRole('link', { name: 'see why and replay' }).click();
    await page.getByRole('heading', { name: 'Failed deliveries' }).waitFor();
    await page.screenshot({ path: '/tmp/relay-deliveries-list.png', fullPage: true });
    const failedTable = page.getByRole('table', { name: 'Failed messages, newest first' });
    const row = failedTable.locator('tbody.message-group', { hasText: 'Where is my helmet order?' });
    await row.getByText('The contact center answered 400 to the notification: The contact list is full').waitFor();
    await row.getByText('João Pereira').waitFor();

    await row.getByRole('button', { name: 'Attempts' }).click();
    expect(await row.getByRole('button', { name: 'Attempts' }).getAttribute('aria-expanded')).toBe('true');
    const attempts = row.getByRole('table', { name: 'Delivery attempts' });
    await attempts.waitFor();
    expect(await attempts.locator('tbody tr').count()).toBe(1);
    expect(await attempts.locator('tbody tr td').nth(3).textContent()).toBe('400');
    expect(await attempts.locator('tbody tr td').nth(4).textContent()).toBe('Failed');
    await page.screenshot({ path: '/tmp/relay-deliveries.png', fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: '/tmp/relay-deliveries-mobile.png', fullPage: true });
    await page.setViewportSize({ width: 1100, height: 900 });

    const before = world.cc.control.notifications({ accountId, acceptedOnly: true }).length;
    await row.getByRole('button', { name: 'Replay' }).click();
    const dialog = page.getByRole('dialog', { name: 'Replay this message?' });
    await dialog.getByRole('button', { name: 'Cancel' }).waitFor();
    await dialog.getByRole('button', { name: 'Replay' }).click();
    await page.getByText('"Where is my helmet order?" was put back in line for the contact center.').waitFor();
    await page.getByText('No failed deliveries: the contact center took every message.').waitFor();

    const delivered = await world.cc.control.waitForNotifications(before + 1, { accountId, acceptedOnly: true, timeoutMs: 15_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const replayed = world.cc.control.notifications({ accountId, acceptedOnly: true }).filter((n) => (n.body as { body?: string }).body === 'Where is my helmet order?');
    expect(replayed).toHaveLength(1);
    expect(delivered.length).toBe(before + 1);

    // "Replay all failed" with nothing failed says so; the audit log names the replay.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const audit = page.getByRole('table', { name: /Actions on this account/ });
    const entry = audit.locator('tr', { hasText: 'Replayed a failed message' });
    await entry.waitFor();
    expect(await entry.textContent()).toContain(tenant.email);
    expect(await entry.textContent()).toContain('Bike store');
    await page.screenshot({ path: '/tmp/relay-audit.png', fullPage: true });
  });

  it('replays all failed messages of the integration after confirmation', async () => {
    await world.cc.control.setFailures({ errors: { status: 400, count: 2, message: 'Busy with maintenance' } });
    world.fb.control.events.customerMessage({ psid: maria(), text: 'Hello again?' });
    world.fb.control.events.customerMessage({ psid: joao(), text: 'Anyone there?' });
    await waitFor('two failures', async () => (await tenant.get(`/api/v1/integrations/${integrationId}/messages?status=failed`)).body?.total === 2);
    const before = world.cc.control.notifications({ accountId, acceptedOnly: true }).length;

    await page.goto(`${world.relay.url}/#/integrations/${integrationId}?tab=deliveries`);
    await page.getByText('2 failed messages.').waitFor();
    await page.getByRole('button', { name: 'Replay all failed' }).click();
    await page.getByRole('dialog', { name: 'Replay all failed messages?' }).getByRole('button', { name: 'Replay all failed' }).click();
    await page.getByText('2 messages put back in line for the contact center.').waitFor();
    const after = await world.cc.control.waitForNotifications(before + 2, { accountId, acceptedOnly: true, timeoutMs: 15_000 });
    expect(after.slice(before).map((n) => (n.body as { body: string }).body).sort()).toEqual(['Anyone there?', 'Hello again?']);
  });

  it('saves opening hours and an after-hours message', async () => {
    await page.goto(`${world.relay.url}/#/integrations/${integrationId}?tab=availability`);
    await page.getByRole('heading', { name: 'Opening hours' }).waitFor();
    expect(await page.getByRole('checkbox', { name: 'Monday', exact: true }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'Saturday', exact: true }).isChecked()).toBe(false);
    expect(await page.getByLabel('Monday from').inputValue()).toBe('09:00');

    await page.getByLabel('Answer outside opening hours').check();
    await page.getByLabel('Time zone').selectOption('Europe/Lisbon');
    await page.getByRole('checkbox', { name: 'Saturday', exact: true }).check();
    await page.getByLabel('Saturday from').fill('10:00');
    await page.getByLabel('Saturday to').fill('10:00');
    await page.getByRole('button', { name: 'Save availability' }).click();
    await page.getByText(/Saturday: the opening and closing times are the same/).waitFor();

    await page.getByLabel('Saturday to').fill('13:00');
    await page.getByLabel('After-hours message', { exact: true }).fill('We are closed now; we answer from 9:00.');
    await page.getByText('39 / 1000 characters').waitFor();
    await page.getByLabel('Still forward after-hours messages to the contact center').uncheck();
    await page.getByRole('button', { name: 'Save availability' }).click();
    await page.getByText('Saved: customers get the after-hours message outside these hours.').waitFor();
    await page.screenshot({ path: '/tmp/relay-availability.png', fullPage: true });

    const saved = (await tenant.get(`/api/v1/integrations/${integrationId}`)).body.availability;
    expect(saved).toMatchObject({
      enabled: true, timezone: 'Europe/Lisbon', afterHoursMessage: 'We are closed now; we answer from 9:00.', forwardAfterHours: false, afterHoursIntervalHours: 12,
    });
    expect(saved.days).toContainEqual({ day: 6, from: '10:00', to: '13:00' });
    expect(saved.days).toContainEqual({ day: 1, from: '09:00', to: '18:00' });
  });

  it("shows a long thread's latest messages and loads the earlier ones on request", async () => {
    // João's conversation gets 205 older messages from a month ago (kept out of the last 7 days' figures): with
    // the ones it had, more than the 200 a page shows.
    const repo = world.relay.get(Database).repo(Message);
    const latest = await repo.findOneOrFail({ where: { integrationId, direction: 'in', text: 'Do you sell helmets?' } });
    const before = (await tenant.get(`/api/v1/conversations/${latest.conversationId}`)).body.messages.map((m: { text: string }) => m.text);
    const monthAgo = Date.now() - 30 * 86_400_000;
    await repo.insert(Array.from({ length: 205 }, (_, i): Message => ({
      ...latest, id: newId(), text: `Old question ${i + 1}`, status: 'delivered', dedupKey: null, externalId: null, remoteId: null,
      occurredAt: monthAgo + i * 1000, createdAt: new Date(monthAgo + i * 1000), updatedAt: new Date(monthAgo + i * 1000),
    })));
    await page.goto(`${world.relay.url}/#/integrations/${integrationId}/conversations/${latest.conversationId}`);
    await page.getByRole('heading', { name: 'Messenger conversation with João Pereira' }).waitFor();
    await page.getByText(`${before.length + 205} messages`).waitFor();
    const thread = page.getByRole('list', { name: 'Messages with João Pereira' });
    await thread.getByText(before[before.length - 1]).waitFor();
    expect(await thread.locator('.bubble-row').count()).toBe(200);
    expect(await thread.getByText('Old question 1', { exact: true }).count()).toBe(0);

    // It opens at the newest message, like a chat app: the window is scrolled to the bottom (the thread overflows
    // it), the oldest of the 200 is out of view above, and the focus stayed on the page title.
    const rows = thread.locator('.bubble-row');
    await untilTrue(page, AT_BOTTOM);
    expect(await inView(page, rows.last())).toBe(true);
    expect(await inView(page, rows.first())).toBe(false);
    expect(await page.evaluate('document.activeElement.tagName')).toBe('H1');
    expect(await page.evaluate('window.scrollY')).toBeGreaterThan(2000);
    await page.screenshot({ path: '/tmp/relay-conversation-long.png' });
    // While the reader is at the bottom, a reflow (a narrower window here) keeps the newest message in view.
    await page.setViewportSize({ width: 390, height: 844 });
    await untilTrue(page, AT_BOTTOM);
    expect(await inView(page, rows.last())).toBe(true);
    await page.setViewportSize({ width: 1100, height: 900 });
    await untilTrue(page, AT_BOTTOM);
    // A reader who scrolled up is left where they are when the thread reflows.
    const middle = rows.filter({ has: page.getByText('Old question 100', { exact: true }) });
    await middle.scrollIntoViewIfNeeded();
    await page.mouse.wheel(0, -100);
    await untilTrue(page, `!(${AT_BOTTOM})`);
    expect(await inView(page, middle)).toBe(true);
    await page.setViewportSize({ width: 390, height: 844 });
    await nextFrames(page);
    expect(await inView(page, middle)).toBe(true);
    expect(await page.evaluate(PIXELS_BELOW_VIEW)).toBeGreaterThan(100);
    await page.setViewportSize({ width: 1100, height: 900 });
    await nextFrames(page);
    expect(await inView(page, middle)).toBe(true);
    expect(await page.evaluate(PIXELS_BELOW_VIEW)).toBeGreaterThan(100);

    // "Show earlier messages" adds them above without moving the view beyond the focus move to the first one added.
    const more = page.getByRole('button', { name: 'Show earlier messages' });
    await more.scrollIntoViewIfNeeded();
    const buttonTop = (await more.boundingBox())!.y;
    await more.click();
    await thread.getByText('Old question 1', { exact: true }).waitFor();
    expect(await inView(page, rows.first())).toBe(true);
    expect(Math.abs((await rows.first().boundingBox())!.y - buttonTop)).toBeLessThan(60);
    expect(await page.evaluate(PIXELS_BELOW_VIEW)).toBeGreaterThan(100);
    expect(await thread.locator('.bubble-row').count()).toBe(before.length + 205);
    expect(await page.getByRole('button', { name: 'Show earlier messages' }).count()).toBe(0);
    await page.getByRole('status').filter({ hasText: `${before.length + 5} earlier messages shown.` }).waitFor({ state: 'attached' });
    // Focus moves to the first message added, at the top of the thread.
    expect(await page.evaluate('document.activeElement.textContent')).toContain('Old question 1');
    const texts = await thread.locator('.bubble-text').allTextContents();
    expect(texts.slice(0, 3)).toEqual(['Old question 1', 'Old question 2', 'Old question 3']);
    expect(texts.slice(205)).toEqual(before);

    // Pressed without scrolling up first (as a screen reader's browse mode may do, the view still at the bottom):
    // the view follows the focus to the first message added and stays there, not pulled back to the bottom.
    await page.reload();
    await untilTrue(page, AT_BOTTOM);
    await more.dispatchEvent('click');
    await thread.getByText('Old question 1', { exact: true }).waitFor();
    await nextFrames(page);
    expect(await page.evaluate('document.activeElement.textContent')).toContain('Old question 1');
    expect(await inView(page, rows.first())).toBe(true);
    expect(await page.evaluate(PIXELS_BELOW_VIEW)).toBeGreaterThan(100);
  });
});

/** How much of the page is below the window (what scrolls on the conversation page), and whether it shows the bottom. */
const PIXELS_BELOW_VIEW = 'document.scrollingElement.scrollHeight - window.scrollY - window.innerHeight';
const AT_BOTTOM = `${PIXELS_BELOW_VIEW} <= 4`;

async function inView(page: Page, element: Locator): Promise<boolean> {
  const box = await element.boundingBox();
  const viewport = page.viewportSize()!;
  return !!box && box.y >= 0 && box.y + box.height <= viewport.height;
}

/** Lets the page run two rendering steps (size observers and scroll events included). */
async function nextFrames(page: Page): Promise<void> {
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
}

async function barHeights(page: Page, series: string): Promise<Array<[number, number]>> {
  return page.locator(`svg.chart rect.bar-${series}`).evaluateAll((bars) => bars.map((bar) => [Number(bar.getAttribute('data-count')), Number(bar.getAttribute('height'))] as [number, number]));
}

/**
 * Waits until an expression is true in the page. Polled from the test (page.evaluate goes through the debugger, which
 * the relay's Content-Security-Policy does not restrict): Playwright's waitForFunction re-evaluates a string with
 * eval inside the page, which `script-src 'self'` refuses whenever the first check is false.
 */
async function untilTrue(page: Page, expression: string): Promise<void> {
  await waitFor(expression, async () => Boolean(await page.evaluate(expression)));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A 96×64 PNG (a blue and orange stripe pattern) so the thumbnail is visible in screenshots. */
function samplePng(): Buffer {
  const width = 96;
  const height = 64;
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x += 1) {
      const stripe = Math.floor((x + y) / 12) % 2 === 0;
      const offset = y * (width * 3 + 1) + 1 + x * 3;
      raw[offset] = stripe ? 31 : 240;
      raw[offset + 1] = stripe ? 95 : 150;
      raw[offset + 2] = stripe ? 209 : 40;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
