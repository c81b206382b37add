import { FileLinks } from '../../src/replies/file-links';
import { backends } from '../support/backends';
import { DAY, graphCalls, MINUTE, outboundRows, ReplyWorld, setUpPage, setUpWallThread, startReplyWorld } from './reply-harness';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

describe.each(backends())('replies on wall threads on %s', (backend) => {
  let world: ReplyWorld;
  beforeAll(async () => {
    world = await startReplyWorld(backend);
  });
  afterAll(() => world?.close());

  it("answers publicly under the customer's latest comment and records the comment id", async () => {
    const setup = await setUpPage(world);
    const thread = await setUpWallThread(world, setup);
    const result = await setup.reply({ threadId: thread.post.id, body: 'Yes, from size 12!' });
    expect(result.status).toBe(200);
    const calls = graphCalls(world.fb, setup.page.id, '/comments');
    expect(calls.map((c) => c.path)).toEqual([`/${thread.commentId}/comments`]);
    const created = world.fb.control.state.comments.get((result.answer as { id: string }).id)!;
    expect(created).toMatchObject({ parentId: thread.commentId, message: 'Yes, from size 12!', byPage: true });
    const [row] = await outboundRows(world.relay, setup.integration.id);
    expect(row).toMatchObject({ kind: 'comment', status: 'sent', externalId: created.id, conversationId: thread.conversation.id });
    expect(world.fb.control.sentMessages({ pageId: setup.page.id })).toHaveLength(0);
  });

  it('comments on the post when the thread has no customer comment', async () => {
    const setup = await setUpPage(world);
    const thread = await setUpWallThread(world, setup, { withComment: false });
    const result = await setup.reply({ threadId: thread.post.id, body: 'Thanks for posting' });
    expect(result.status).toBe(200);
    expect(graphCalls(world.fb, setup.page.id, '/comments').map((c) => c.path)).toEqual([`/${thread.post.id}/comments`]);
  });

  it('answers a comment privately once (privateReply), and refuses a second one locally', async () => {
    const setup = await setUpPage(world);
    const thread = await setUpWallThread(world, setup);
    const first = await setup.reply({ threadId: thread.post.id, privateReply: true, body: 'I sent you the catalogue here.' });
    expect(first.status).toBe(200);
    const [sent] = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sent).toMatchObject({ recipient: { comment_id: thread.commentId }, text: 'I sent you the catalogue here.' });
    expect(first.answer).toEqual({ id: sent.mid });

    const second = await setup.reply({ threadId: thread.post.id, privateReply: true, body: 'And another thing' });
    expect(second.status).toBe(409);
    expect(second.answer).toMatchObject({ error: 'already_replied' });
    expect((second.answer as { message: string }).message).toMatch(/one private reply per comment/);
    expect(graphCalls(world.fb, setup.page.id, '/messages')).toHaveLength(1);
    const rows = await outboundRows(world.relay, setup.integration.id);
    expect(rows.map((r) => [r.kind, r.status])).toEqual([['private_reply', 'sent'], ['private_reply', 'failed']]);
  });

  it("maps Facebook's 10900 (already replied) and refuses a comment older than 7 days", async () => {
    const setup = await setUpPage(world);
    const thread = await setUpWallThread(world, setup);
    world.fb.control.state.comments.get(thread.commentId!)!.privateReplied = true;
    const result = await setup.reply({ threadId: thread.post.id, privateReply: true });
    expect(result.status).toBe(409);
    expect((result.answer as { message: string }).message).toMatch(/10900/);

    const old = await setUpWallThread(world, setup, { commentAgoMs: 7 * DAY + MINUTE });
    const late = await setup.reply({ threadId: old.post.id, privateReply: true });
    expect(late.status).toBe(422);
    expect((late.answer as { message: string }).message).toMatch(/within 7 days/);
  });

  it('posts an agent picture on a comment through a signed relay link that Facebook can fetch', async () => {
    const setup = await setUpPage(world);
    const thread = await setUpWallThread(world, setup);
    const attachment = world.cc.control.addAttachment({ data: PNG, name: 'sizes.png', type: 'image/png' });
    const result = await setup.reply({ threadId: thread.post.id, attachmentId: attachment.id });
    expect(result.status).toBe(200);
    const [call] = graphCalls(world.fb, setup.page.id, '/comments');
    const link = (call.body as { attachment_url: string }).attachment_url;
    expect(link.startsWith(`${world.relay.url}/files/`)).toBe(true);
    const url = new URL(link);
    expect(Number(url.searchParams.get('expires')) * 1000).toBeGreaterThan(Date.now() + DAY - 60_000);

    const fetched = await fetch(link);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await fetched.arrayBuffer())).toEqual(PNG);

    url.searchParams.set('signature', 'forged');
    expect((await fetch(url)).status).toBe(403);
    const blobId = url.pathname.split('/').pop()!;
    const expired = world.relay.get(FileLinks).url(blobId, Date.now() - 25 * 3600_000);
    const gone = await fetch(expired);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ message: expect.stringMatching(/24 hours/) });
  });

  it('refuses a non-picture on a comment (415) but sends it by private reply', async () => {
    const setup = await setUpPage(world);
    const thread = await setUpWallThread(world, setup);
    const pdf = world.cc.control.addAttachment({ data: '%PDF-1.4', name: 'catalogue.pdf', type: 'application/pdf' });
    const refused = await setup.reply({ threadId: thread.post.id, attachmentId: pdf.id });
    expect(refused.status).toBe(415);
    expect((refused.answer as { message: string }).message).toMatch(/only pictures/);
    const privately = await setup.reply({ threadId: thread.post.id, attachmentId: pdf.id, privateReply: true });
    expect(privately.status).toBe(200);
    const [sent] = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sent.recipient).toEqual({ comment_id: thread.commentId });
    expect(sent.attachments?.[0]).toMatchObject({ type: 'file', contentType: 'application/pdf' });
  });
});
