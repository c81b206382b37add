/** The Facebook Login dialog (www.facebook.com/{v}/dialog/oauth): pick a test user, grant permissions, approve or cancel. */
import { SandboxState, SandboxUser } from './state';
import { ResolvedOptions } from './types';
import { escapeHtml, randomAlnum } from './util';

export type DialogResult = { kind: 'redirect'; location: string } | { kind: 'html'; status: number; html: string };

interface DialogParams {
  clientId: string;
  redirectUri: string;
  state: string;
  scopes: string[];
  responseType: string;
  rerequest: boolean;
}

export class LoginDialog {
  constructor(
    private readonly state: SandboxState,
    private readonly options: ResolvedOptions,
  ) {}

  /** GET: render the dialog, or approve at once in auto-approve mode. */
  show(query: URLSearchParams, path: string): DialogResult {
    const parsed = this.validate((k) => query.get(k) ?? undefined);
    if ('kind' in parsed) return parsed;
    const auto = query.get('sandbox_auto_approve') ?? this.options.autoApprove;
    if (auto && auto !== 'false') {
      const userId = typeof auto === 'string' && this.state.users.has(auto) ? auto : query.get('sandbox_user') ?? this.firstUser()?.id;
      if (!userId || !this.state.users.has(userId)) return this.errorPage(500, 'No test user to approve with');
      return this.approve(parsed, userId, new Set(parsed.scopes));
    }
    return { kind: 'html', status: 200, html: this.page(parsed, path) };
  }

  /** POST from the dialog form. */
  submit(form: URLSearchParams): DialogResult {
    const parsed = this.validate((k) => form.get(k) ?? undefined);
    if ('kind' in parsed) return parsed;
    if (form.get('action') !== 'approve') {
      const q = new URLSearchParams({ error_reason: 'user_denied', error: 'access_denied', error_description: 'The user denied your request.', state: parsed.state });
      return { kind: 'redirect', location: appendQuery(parsed.redirectUri, q) + '#_=_' };
    }
    const userId = form.get('user_id') ?? '';
    if (!this.state.users.has(userId)) return this.errorPage(400, 'Pick a test user');
    const granted = new Set(parsed.scopes.filter((s) => form.get(`perm_${s}`)));
    return this.approve(parsed, userId, granted);
  }

  private firstUser(): SandboxUser | undefined {
    const seeded = this.state.seedInfo?.users.ana;
    return (seeded && this.state.users.get(seeded)) || this.state.users.values().next().value;
  }

  private validate(get: (k: string) => string | undefined): DialogParams | DialogResult {
    const clientId = get('client_id');
    if (!clientId || clientId !== this.state.appId) return this.errorPage(400, 'Invalid App ID: The provided app ID does not look like a valid app ID.');
    const redirectUri = get('redirect_uri');
    if (!redirectUri) return this.errorPage(400, 'Missing redirect_uri parameter.');
    try {
      new URL(redirectUri);
    } catch {
      return this.errorPage(400, 'Invalid redirect_uri: not an absolute URL.');
    }
    const allowed = this.options.allowedRedirectUris;
    if (allowed && allowed.length && !allowed.some((a) => redirectUri.startsWith(a))) {
      return this.errorPage(400, "URL Blocked: This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings.");
    }
    const responseType = get('response_type') ?? 'code';
    if (responseType !== 'code') return this.errorPage(400, `The sandbox only emulates response_type=code (got ${responseType}).`);
    const scopes = (get('scope') ?? '').split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);
    return { clientId, redirectUri, state: get('state') ?? '', scopes: [...new Set(['public_profile', ...scopes])], responseType, rerequest: get('auth_type') === 'rerequest' };
  }

  private approve(p: DialogParams, userId: string, granted: Set<string>): DialogResult {
    const user = this.state.requireUser(userId);
    user.appAuthorized = true;
    for (const s of p.scopes) {
      const before = user.permissions.get(s);
      // Without auth_type=rerequest, a permission declined earlier is not asked again.
      if (before === 'declined' && !p.rerequest) continue;
      user.permissions.set(s, granted.has(s) || s === 'public_profile' ? 'granted' : 'declined');
    }
    const code = 'AQ' + randomAlnum(150);
    this.state.codes.set(code, { code, clientId: p.clientId, redirectUri: p.redirectUri, userId, createdAt: this.state.clock.now(), used: false });
    const q = new URLSearchParams({ code, state: p.state });
    return { kind: 'redirect', location: appendQuery(p.redirectUri, q) + '#_=_' };
  }

  private errorPage(status: number, message: string): DialogResult {
    return { kind: 'html', status, html: layout('Error', `<div class="box"><h1>Sorry, something went wrong.</h1><p class="err">${escapeHtml(message)}</p></div>`) };
  }

  private page(p: DialogParams, path: string): string {
    const users = [...this.state.users.values()];
    const first = this.firstUser()?.id;
    const userRadios = users
      .map((u) => {
        const pages = [...this.state.pages.values()].filter((pg) => pg.roles.has(u.id)).map((pg) => pg.name);
        return `<label class="user"><input type="radio" name="user_id" value="${escapeHtml(u.id)}"${u.id === first ? ' checked' : ''}> <b>${escapeHtml(u.name)}</b> <small>(${escapeHtml(u.id)}; pages: ${escapeHtml(pages.join(', ') || 'none')})</small></label>`;
      })
      .join('\n');
    const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
    const perms = p.scopes
      .map((s) => {
        const declinedBefore = [...this.state.users.values()].some((u) => u.permissions.get(s) === 'declined');
        const note = declinedBefore && !p.rerequest ? ' <small>(declined earlier by some user; stays declined for them unless auth_type=rerequest)</small>' : '';
        const fixed = s === 'public_profile';
        return `<label class="perm"><input type="checkbox" name="perm_${escapeHtml(s)}" value="1" checked${fixed ? ' disabled' : ''}>${fixed ? hidden(`perm_${s}`, '1') : ''} ${escapeHtml(s)}${note}</label>`;
      })
      .join('\n');
    return layout(
      'Log in with Facebook',
      `<form class="box" method="post" action="${escapeHtml(path)}">
<h1>Sandbox App wants to access your account</h1>
<p>App <code>${escapeHtml(p.clientId)}</code> → <code>${escapeHtml(p.redirectUri)}</code></p>
${hidden('client_id', p.clientId)}${hidden('redirect_uri', p.redirectUri)}${hidden('state', p.state)}${hidden('scope', p.scopes.join(','))}${hidden('response_type', p.responseType)}${p.rerequest ? hidden('auth_type', 'rerequest') : ''}
<fieldset><legend>Continue as</legend>
${userRadios}
</fieldset>
<fieldset><legend>Permissions</legend>
${perms}
</fieldset>
<div class="actions"><button type="submit" name="action" value="cancel" id="cancel">Cancel</button> <button type="submit" name="action" value="approve" id="approve" class="primary">Continue</button></div>
</form>`,
    );
  }
}

function appendQuery(uri: string, q: URLSearchParams): string {
  const hashless = uri.split('#')[0];
  return hashless + (hashless.includes('?') ? '&' : '?') + q.toString();
}

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} | Facebook Sandbox</title>
<style>body{font-family:Helvetica,Arial,sans-serif;background:#f0f2f5;margin:0;padding:40px}
.box{max-width:560px;margin:auto;background:#fff;border-radius:8px;padding:24px;box-shadow:0 2px 8px rgba(0,0,0,.1)}
h1{font-size:20px;color:#1c1e21}label{display:block;margin:6px 0}fieldset{border:1px solid #dddfe2;border-radius:6px;margin:12px 0}
.actions{text-align:right}button{font-size:15px;padding:8px 18px;border-radius:6px;border:1px solid #ccd0d5;background:#e4e6eb}
button.primary{background:#1877f2;color:#fff;border-color:#1877f2}.err{color:#be4b49}</style></head>
<body>${body}</body></html>`;
}
