import type { IncomingMessage, ServerResponse } from 'node:http';
import { ReplyError, type ReplyOptions } from './agent';
import type { SandboxContext } from './context';
import type { DownOptions, SandboxControl } from './control';
import type { FailuresInput } from './failures';
import { HttpError, parseJsonObject, readBody, sendJson } from './http-util';
import type { AccountInput } from './state';

/**
 * JSON control API under `/_control/...`, the HTTP twin of `SandboxControl`. See README.md.
 */
export async function handleControl(ctx: SandboxContext, control: SandboxControl, req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
  try {
    await route(ctx, control, req, res, path, new URLSearchParams(search));
  } catch (err) {
    const status = err instanceof HttpError || err instanceof ReplyError ? err.status : statusOf(err);
    sendJson(res, status, { message: err instanceof Error ? err.message : String(err) });
  }
}

function statusOf(err: unknown): number {
  const message = err instanceof Error ? err.message : '';
  if (/not found/i.test(message)) return 404;
  if (/already exists/i.test(message)) return 409;
  return 400;
}

async function route(ctx: SandboxContext, control: SandboxControl, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
  const method = req.method ?? 'GET';
  const parts = path.replace(/\/+$/, '').split('/').filter(Boolean).slice(1); // drop '_control'
  const json = async (): Promise<Record<string, unknown>> => {
    const raw = await readBody(req, ctx.maxAttachmentBytes * 2 + 1024 * 1024);
    return raw.length === 0 ? {} : parseJsonObject(raw);
  };
  const num = (value: string | undefined | null): number | undefined => {
    if (value === undefined || value === null || value === '') return undefined;
    const n = Number(value);
    if (!Number.isInteger(n)) throw new HttpError(400, `Not an integer id: ${value}`);
    return n;
  };
  const [head, idText, sub, subAction] = parts;

  switch (head) {
    case 'state':
      return sendJson(res, 200, { stats: control.stats(), accounts: control.accounts(), failures: control.failures() });

    case 'accounts': {
      if (idText === undefined) {
        if (method === 'GET') return sendJson(res, 200, control.accounts().map((a) => withUrls(control, a.id)));
        if (method === 'POST') {
          const account = control.createAccount(accountInput(await json(), true));
          return sendJson(res, 201, withUrls(control, account.id));
        }
        break;
      }
      const id = num(idText)!;
      if (sub === undefined) {
        if (method === 'GET') {
          if (!control.account(id)) throw new HttpError(404, `Account ${id} not found`);
          return sendJson(res, 200, withUrls(control, id));
        }
        if (method === 'PATCH' || method === 'PUT') {
          control.updateAccount(id, accountInput(await json(), false));
          return sendJson(res, 200, withUrls(control, id));
        }
        if (method === 'DELETE') {
          if (!control.deleteAccount(id)) throw new HttpError(404, `Account ${id} not found`);
          return sendJson(res, 200, { deleted: id });
        }
        break;
      }
      if (sub === 'reply-url' && (method === 'PUT' || method === 'POST')) {
        const body = await json();
        control.setReplyUrl(id, optionalString(body.replyUrl) ?? null);
        return sendJson(res, 200, withUrls(control, id));
      }
      if (sub === 'list') {
        if ((method === 'POST' && subAction === 'delete') || (method === 'DELETE' && subAction === undefined)) {
          control.deleteList(id);
          return sendJson(res, 200, withUrls(control, id));
        }
        if (method === 'POST' && subAction === 'restore') {
          control.restoreList(id);
          return sendJson(res, 200, withUrls(control, id));
        }
      }
      break;
    }

    case 'notifications':
      if (method === 'GET') {
        return sendJson(
          res,
          200,
          control.notifications({
            accountId: num(query.get('accountId')),
            acceptedOnly: truthy(query.get('acceptedOnly')),
            deliveryId: query.get('deliveryId') ?? undefined,
            sinceSeq: num(query.get('sinceSeq')),
          }),
        );
      }
      break;

    case 'duplicates':
      if (method === 'GET') return sendJson(res, 200, control.duplicates(num(query.get('accountId'))));
      break;

    case 'contacts':
      if (method === 'GET') return sendJson(res, 200, control.contacts(num(query.get('accountId'))));
      break;

    case 'interactions': {
      if (idText === undefined && method === 'GET') {
        return sendJson(
          res,
          200,
          control.interactions({
            accountId: num(query.get('accountId')),
            contactFrom: query.get('contactFrom') ?? undefined,
            threadId: query.has('threadId') ? query.get('threadId') || null : undefined,
          }),
        );
      }
      const id = num(idText)!;
      if (sub === undefined && method === 'GET') {
        const interaction = control.interaction(id);
        if (!interaction) throw new HttpError(404, `Interaction ${id} not found`);
        return sendJson(res, 200, interaction);
      }
      if (sub === 'close' && method === 'POST') return sendJson(res, 200, control.closeInteraction(id));
      break;
    }

    case 'reply':
      if (method === 'POST') {
        const body = await json();
        return sendJson(res, 200, await control.reply(body as unknown as ReplyOptions));
      }
      break;

    case 'attachments':
      if (method === 'GET' && idText === undefined) return sendJson(res, 200, control.attachments());
      if (method === 'POST' && idText === undefined) {
        const body = await json();
        const name = optionalString(body.name);
        if (!name) throw new HttpError(400, '"name" is required');
        let data: Buffer;
        if (typeof body.base64 === 'string') data = Buffer.from(body.base64, 'base64');
        else if (typeof body.text === 'string') data = Buffer.from(body.text, 'utf8');
        else throw new HttpError(400, 'Give the content as "base64" or "text"');
        return sendJson(res, 201, control.addAttachment({ name, type: optionalString(body.type), data }));
      }
      break;

    case 'failures':
      if (method === 'GET') return sendJson(res, 200, control.failures());
      if (method === 'POST' || method === 'PUT') {
        const body = await json();
        const { down, ...rest } = body as FailuresInput & { down?: DownOptions | boolean };
        const snapshot = control.setFailures(rest);
        if (down) return scheduleDown(control, res, down === true ? {} : down, snapshot);
        return sendJson(res, 200, snapshot);
      }
      if (method === 'DELETE') {
        await control.clearFailures();
        return sendJson(res, 200, control.failures());
      }
      break;

    case 'down':
      if (method === 'POST') return scheduleDown(control, res, (await json()) as DownOptions, undefined);
      break;

    case 'up':
      if (method === 'POST') {
        await control.up();
        return sendJson(res, 200, control.failures());
      }
      break;

    case 'reset':
      if (method === 'POST') {
        const body = await json();
        await control.reset({ keepAccounts: body.keepAccounts === true });
        return sendJson(res, 200, { stats: control.stats(), accounts: control.accounts() });
      }
      break;
  }
  throw new HttpError(404, `No control endpoint ${method} ${path}`);
}

/** Answer first, then go down (a refusing server could not answer). */
function scheduleDown(control: SandboxControl, res: ServerResponse, options: DownOptions, snapshot: unknown): void {
  const mode = options.mode ?? 'refuse';
  if (mode !== 'refuse' && mode !== 'reset') throw new HttpError(400, 'mode must be "refuse" or "reset"');
  if (mode === 'refuse' && !(Number(options.forMs) > 0)) {
    throw new HttpError(400, 'Over HTTP, "refuse" needs "forMs" (the control API goes down too); or use mode "reset" and POST /_control/up');
  }
  res.on('finish', () => {
    void control.down({ mode, forMs: options.forMs === undefined ? undefined : Number(options.forMs) });
  });
  sendJson(res, 202, { down: { mode, forMs: options.forMs ?? null }, ...(snapshot ? { failures: snapshot } : {}) });
}

function withUrls(control: SandboxControl, id: number): Record<string, unknown> {
  const account = control.account(id)!;
  return { ...account, receiveUrl: control.receiveUrl(id, 'notify'), receiveUrlMotion1: control.receiveUrl(id, 'receive') };
}

function accountInput(body: Record<string, unknown>, create: boolean): AccountInput {
  const input: AccountInput = {};
  if (create && body.id !== undefined && body.id !== null) {
    const id = Number(body.id);
    if (!Number.isInteger(id) || id <= 0) throw new HttpError(400, '"id" must be a positive integer');
    input.id = id;
  }
  if (body.name !== undefined) input.name = String(body.name);
  if (body.apiKey !== undefined) input.apiKey = optionalString(body.apiKey) ?? null;
  if (body.replyUrl !== undefined) input.replyUrl = optionalString(body.replyUrl) ?? null;
  if (body.mapKey !== undefined) input.mapKey = optionalString(body.mapKey);
  if (body.signingSecret !== undefined) input.signingSecret = optionalString(body.signingSecret) ?? null;
  if (body.requireSignature !== undefined) input.requireSignature = body.requireSignature === true;
  return input;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function truthy(value: string | null): boolean {
  return value === '1' || value === 'true' || value === 'yes';
}
