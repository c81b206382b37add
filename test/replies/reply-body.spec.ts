import { validationPipe } from '../../src/common/errors/validation';
import { acceptsAtOnce, ReplyBodyPipe } from '../../src/replies/reply-body.pipe';
import { ReplyDto } from '../../src/replies/reply.dto';

/** Motion-shaped bodies and every kind of wrong field, for both ways through the pipe. */
function bodies(): unknown[] {
  const motion = {
    id: 'm-1', body: 'Hello', AttachmentId: null, OpenchannelAccountId: 1, OpenchannelInteractionId: 1, UserId: 17,
    Contact: { id: 1, firstName: 'Ana', facebook: '2400000000000001' }, Interaction: { id: 1, threadId: null, closed: false },
  };
  const wrong = [undefined, null, 0, 12.5, '', 'x', true, false, [], ['a'], {}, { a: 1 }];
  const list: unknown[] = [motion, { body: 'x' }, { body: '' }, { body: 'a'.repeat(60_000) }, { body: 'a'.repeat(60_001) }, { body: '😀'.repeat(30_001) }];
  for (const field of ['body', 'Contact', 'contact', 'to', 'Interaction', 'AttachmentId', 'id', 'privateReply']) {
    for (const value of wrong) list.push({ ...motion, [field]: value });
  }
  list.push(null, [], 'text', 42, { ...motion, Contact: JSON.parse('{"__proto__": {"x": 1}, "facebook": "1"}') }, JSON.parse('{"body": "x", "constructor": {"a": 1}}'));
  return list;
}

async function outcome(run: () => Promise<unknown>): Promise<{ ok: unknown } | { error: string }> {
  try {
    return { ok: { ...(await run() as object) } };
  } catch (error) {
    return { error: `${(error as Error).constructor.name}: ${(error as Error).message} ${JSON.stringify((error as { getResponse?: () => unknown }).getResponse?.())}` };
  }
}

describe('ReplyBodyPipe', () => {
  const pipe = new ReplyBodyPipe();
  const appPipe = validationPipe();

  it.each(bodies().map((body, i) => [i, body]))('answers body #%i as the app-wide ValidationPipe does', async (_, body) => {
    const copy = () => (body === undefined ? undefined : JSON.parse(JSON.stringify(body)));
    const expected = await outcome(() => appPipe.transform(copy(), { type: 'body', metatype: ReplyDto }));
    const actual = await outcome(() => pipe.transform(copy()));
    expect(actual).toEqual(expected);
    if (acceptsAtOnce(copy())) expect(expected).toHaveProperty('ok');
  });

  it('takes a Motion body without class-validator and returns a ReplyDto with the declared fields only', async () => {
    const dto = await pipe.transform({ body: 'Hi', Contact: { facebook: '1' }, id: 7, UserId: 17 });
    expect(dto).toBeInstanceOf(ReplyDto);
    expect({ ...dto }).toEqual({ body: 'Hi', Contact: { facebook: '1' }, id: 7 });
  });
});
