import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { RelayHttpError } from '../common/errors/http-errors';
import { AppConfig } from '../config/app-config';
import { MailService, OutboxMail } from './mail.service';

/** The sandbox outbox: where a developer reads verification codes when no SMTP server is configured. */
@ApiExcludeController()
@Controller('sandbox/outbox')
export class OutboxController {
  constructor(private readonly mail: MailService, private readonly config: AppConfig) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  page(@Query('to') to?: string): string {
    const mails = this.available().sandboxOutbox(to);
    const items = mails.length
      ? mails.map(renderMail).join('\n')
      : '<p class="empty">No e-mails yet. Sign up or ask for a code, then reload this page.</p>';
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox outbox · Open Channel Relay</title><link rel="stylesheet" href="/ui/styles.css"></head>
<body><main class="page narrow"><h1>Sandbox outbox</h1>
<p class="hint">SMTP_URL is not set, so the relay keeps its e-mails here (newest first, in memory, this process only).</p>
${items}
<p><a href="/">Back to the relay</a></p></main></body></html>`;
  }

  @Get('messages')
  @Header('Cache-Control', 'no-store')
  messages(@Query('to') to?: string): OutboxMail[] {
    return this.available().sandboxOutbox(to);
  }

  private available(): MailService {
    if (!this.mail.sandboxed || this.config.isProduction) {
      throw new RelayHttpError(404, 'not_found', 'The sandbox outbox exists only when SMTP_URL is not set and NODE_ENV is not production');
    }
    return this.mail;
  }
}

function renderMail(mail: OutboxMail): string {
  return `<article class="card mail"><header><strong>${escapeHtml(mail.subject)}</strong><br><small>to ${escapeHtml(mail.to)} · ${escapeHtml(mail.sentAt)}</small></header><pre>${escapeHtml(mail.text)}</pre></article>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
