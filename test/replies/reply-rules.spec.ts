import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { loadConfig } from '../../src/config/app-config';
import { GraphError, GraphUnavailableError } from '../../src/facebook/graph-errors';
import { commentAcceptsMime, messengerTypeFor, normalizeMime, refuseReason } from '../../src/replies/attachment-types';
import { FileLinks } from '../../src/replies/file-links';
import { PagePacer } from '../../src/replies/page-pacer';
import { answerForGraphFailure } from '../../src/replies/reply-errors';
import { DAY_MS, decideMessengerWindow, HOUR_MS, privateReplyOpen } from '../../src/replies/reply-window';
import { attachmentIdOf, recipientOf, ReplyDto, threadOf } from '../../src/replies/reply.dto';
import { MESSENGER_TEXT_LIMIT, splitText } from '../../src/replies/text-splitter';

const MINUTE = 60_000;
const now = Date.UTC(2025, 0, 10, 12);
const ago = (ms: number) => new Date(now - ms);

describe('Messenger window rules', () => {
  it('answers with RESPONSE inside 24 hours (23h59)', () => {
    expect(decideMessengerWindow(ago(23 * HOUR_MS + 59 * MINUTE), false, now)).toEqual({ allowed: true, messagingType: 'RESPONSE' });
  });

  it('refuses at 24h01 without the HUMAN_AGENT setting, in words', () => {
    const decision = decideMessengerWindow(ago(DAY_MS + MINUTE), false, now);
    expect(decision.allowed).toBe(false);
    expect(!decision.allowed && decision.message).toMatch(/24 hours.*HUMAN_AGENT.*not enabled/);
  });

  it('uses the HUMAN_AGENT tag between 24 hours and 7 days when the integration allows it', () => {
    expect(decideMessengerWindow(ago(DAY_MS + MINUTE), true, now)).toEqual({ allowed: true, messagingType: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });
    expect(decideMessengerWindow(ago(7 * DAY_MS - MINUTE), true, now)).toMatchObject({ allowed: true, tag: 'HUMAN_AGENT' });
  });

  it('refuses beyond 7 days even with HUMAN_AGENT, and when the customer never wrote', () => {
    const late = decideMessengerWindow(ago(7 * DAY_MS + MINUTE), true, now);
    expect(late.allowed).toBe(false);
    expect(!late.allowed && late.message).toMatch(/7 days.*until the customer writes again/);
    expect(decideMessengerWindow(null, true, now).allowed).toBe(false);
  });

  it('allows a private reply within 7 days of the comment only', () => {
    expect(privateReplyOpen(ago(6 * DAY_MS), now)).toBe(true);
    expect(privateReplyOpen(ago(7 * DAY_MS + MINUTE), now)).toBe(false);
    expect(privateReplyOpen(null, now)).toBe(false);
  });
});

describe('text splitting', () => {
  it('keeps a short text whole', () => {
    expect(splitText('hello there')).toEqual(['hello there']);
  });

  it('splits long text at word boundaries, below 2000 characters, in order', () => {
    const words = Array.from({ length: 900 }, (_, i) => `word${i}`);
    const text = words.join(' ');
    const parts = splitText(text);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(MESSENGER_TEXT_LIMIT);
    expect(parts.join(' ')).toBe(text);
    for (const part of parts) expect(part).toMatch(/^word\d+( word\d+)*$/);
  });

  it('prefers a line break in the second half of the window', () => {
    const text = `${'a '.repeat(700)}\n${'b '.repeat(700)}`;
    const [first] = splitText(text);
    expect(first.endsWith('a')).toBe(true);
  });

  it('cuts a word longer than the limit without splitting a surrogate pair', () => {
    const text = `${'x'.repeat(1998)}😀${'y'.repeat(100)}`;
    const parts = splitText(text);
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe('x'.repeat(1998));
    expect(parts[1].startsWith('😀')).toBe(true);
    expect(parts.join('')).toBe(text);
  });
});

describe('Graph failures in words', () => {
  const graphError = (code: number, subcode?: number, retryAfter?: number) => new GraphError(400, code, subcode, 'facebook says no', false, retryAfter);

  it.each([
    ['190/463', graphError(190, 463), 424, 'facebook_token_invalid', /re-authorize the page/],
    ['4', graphError(4), 429, 'facebook_rate_limited', /rate-limiting/],
    ['80006', graphError(80006), 429, 'facebook_rate_limited', /rate-limiting/],
    ['551/1545041', graphError(551, 1545041), 422, 'recipient_unavailable', /not available/],
    ['10/2018278', graphError(10, 2018278), 422, 'window_closed', /24 hours/],
    ['10900', graphError(10900), 409, 'already_replied', /one private reply/],
    ['2', graphError(2), 502, 'facebook_unavailable', /temporary problem/],
    ['100/2018047', graphError(100, 2018047), 422, 'attachment_rejected', /refused the file/],
    ['no answer', new GraphUnavailableError('timeout'), 502, 'facebook_unavailable', /did not answer/],
  ])('maps Facebook error %s', (_label, error, status, code, message) => {
    const answer = answerForGraphFailure(error);
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ statusCode: status, error: code });
    expect(String(answer.body.message)).toMatch(message);
  });

  it('puts Retry-After on throttling, from Facebook when it says', () => {
    expect(answerForGraphFailure(graphError(32)).headers).toEqual({ 'Retry-After': '60' });
    expect(answerForGraphFailure(graphError(613, undefined, 7)).headers).toEqual({ 'Retry-After': '7' });
  });

  it('marks what a repeat may send again', () => {
    expect(answerForGraphFailure(graphError(2)).retryable).toBe(true);
    expect(answerForGraphFailure(graphError(190)).retryable).toBe(true);
    expect(answerForGraphFailure(graphError(10, 2018278)).retryable).toBe(false);
  });
});

describe('attachment types', () => {
  it('maps MIME types to Messenger attachment types', () => {
    expect(messengerTypeFor('image/png')).toBe('image');
    expect(messengerTypeFor('video/mp4')).toBe('video');
    expect(messengerTypeFor('audio/mpeg')).toBe('audio');
    expect(messengerTypeFor('application/pdf')).toBe('file');
    expect(messengerTypeFor('image/svg+xml')).toBe('file');
  });

  it('normalizes and refuses programs', () => {
    expect(normalizeMime('Image/PNG; charset=binary')).toBe('image/png');
    expect(normalizeMime(undefined)).toBe('application/octet-stream');
    expect(refuseReason('application/x-msdownload', 'setup.exe')).toMatch(/program/);
    expect(refuseReason('application/octet-stream', 'run.bat')).toMatch(/program/);
    expect(refuseReason('application/pdf', 'invoice.pdf')).toBeNull();
  });

  it('lets only pictures go on comments', () => {
    expect(commentAcceptsMime('image/jpeg')).toBe(true);
    expect(commentAcceptsMime('application/pdf')).toBe(false);
  });
});

describe('reply body', () => {
  const dto = (plain: object) => plainToInstance(ReplyDto, plain);

  it('reads the recipient from Contact.facebook, contact.facebook or to', () => {
    expect(recipientOf(dto({ body: 'x', Contact: { facebook: '123' } }))).toBe('123');
    expect(recipientOf(dto({ body: 'x', contact: { facebook: 456 } }))).toBe('456');
    expect(recipientOf(dto({ body: 'x', to: '789' }))).toBe('789');
    expect(recipientOf(dto({ body: 'x', Contact: { phone: 'none' } }))).toBeNull();
  });

  it('reads the wall thread and the attachment id', () => {
    expect(threadOf(dto({ body: 'x', Interaction: { threadId: 'p_1' } }))).toBe('p_1');
    expect(threadOf(dto({ body: 'x', Interaction: { threadId: null } }))).toBe('');
    expect(attachmentIdOf(dto({ body: 'x', AttachmentId: 12 }))).toBe('12');
    expect(attachmentIdOf(dto({ body: 'x', AttachmentId: null }))).toBeNull();
  });

  it('requires body and accepts Motion fields it does not read', () => {
    expect(validateSync(dto({ Contact: { facebook: '1' } })).map((e) => e.property)).toEqual(['body']);
    expect(validateSync(dto({ body: 'hi', id: 90211, UserId: 17, interface: 'x', AttachmentId: null, Contact: { facebook: '1' } }))).toEqual([]);
    expect(validateSync(dto({ body: 'hi', privateReply: 'yes' })).map((e) => e.property)).toEqual(['privateReply']);
  });
});

describe('per-page pacing', () => {
  it('lets a burst up to the rate through and makes the next wait', async () => {
    const pacer = new PagePacer({ text: 5, media: 1 }, 2000);
    const started = Date.now();
    for (let i = 0; i < 5; i++) expect(await pacer.acquire('p1', 'text')).toBe(true);
    expect(Date.now() - started).toBeLessThan(100);
    expect(await pacer.acquire('p1', 'text')).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(await pacer.acquire('p2', 'text')).toBe(true);
  });

  it('refuses when the wait would exceed its bound', async () => {
    const pacer = new PagePacer({ text: 300, media: 1 }, 500);
    expect(await pacer.acquire('p1', 'media')).toBe(true);
    expect(await pacer.acquire('p1', 'media')).toBe(false);
  });
});

describe('signed file links', () => {
  const links = new FileLinks(loadConfig({ NODE_ENV: 'test', PUBLIC_URL: 'https://relay.example', ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') } as NodeJS.ProcessEnv));

  it('signs a link valid for 24 hours', () => {
    const url = new URL(links.url('blob-1', now));
    expect(url.origin + url.pathname).toBe('https://relay.example/files/blob-1');
    const expires = url.searchParams.get('expires')!;
    expect(Number(expires)).toBe(Math.floor((now + DAY_MS) / 1000));
    const signature = url.searchParams.get('signature')!;
    expect(links.check('blob-1', expires, signature, now)).toBe('ok');
    expect(links.check('blob-1', expires, signature, now + DAY_MS + 1000)).toBe('expired');
    expect(links.check('blob-2', expires, signature, now)).toBe('invalid');
    expect(links.check('blob-1', String(Number(expires) + 1), signature, now)).toBe('invalid');
    expect(links.check('blob-1', undefined, signature, now)).toBe('invalid');
  });
});
