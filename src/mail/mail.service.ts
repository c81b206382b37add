import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createTransport, Transporter } from 'nodemailer';
import { newId } from '../common/ids';
import { redactUrl } from '../common/logging/redact';
import { AppConfig } from '../config/app-config';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface OutboxMail extends Mail {
  id: string;
  from: string;
  sentAt: string;
}

export class MailError extends Error {}

const OUTBOX_LIMIT = 100;

/**
 * Sends the relay's e-mails: over SMTP when SMTP_URL is set; otherwise into an in-memory sandbox
 * outbox (shown at /sandbox/outbox outside production). Log lines name the recipient and subject,
 * never the body, because bodies carry codes: keep codes and secrets out of subjects.
 */
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly logger = new Logger('Mail');
  private readonly transport?: Transporter;
  private readonly outbox: OutboxMail[] = [];

  constructor(private readonly config: AppConfig) {
    if (config.mail.smtpUrl) this.transport = createTransport(config.mail.smtpUrl);
  }

  /** Whether mail goes to the sandbox outbox instead of SMTP. */
  get sandboxed(): boolean {
    return !this.transport;
  }

  async send(mail: Mail): Promise<void> {
    if (this.transport) {
      try {
        await this.transport.sendMail({ from: this.config.mail.from, to: mail.to, subject: mail.subject, text: mail.text });
        this.logger.log(`Mail "${mail.subject}" sent to ${mail.to}`);
      } catch (error) {
        this.logger.error(`Mail "${mail.subject}" to ${mail.to} could not be sent via ${redactUrl(this.config.mail.smtpUrl!)}: ${(error as Error).message}`);
        throw new MailError('The relay could not send the e-mail');
      }
      return;
    }
    this.outbox.unshift({ ...mail, id: newId(), from: this.config.mail.from, sentAt: new Date().toISOString() });
    this.outbox.length = Math.min(this.outbox.length, OUTBOX_LIMIT);
    this.logger.log(`Mail "${mail.subject}" to ${mail.to} written to the sandbox outbox (SMTP_URL is not set): see ${this.config.publicUrl}/sandbox/outbox`);
  }

  /** Newest first; optionally only mails to one address. Empty when SMTP is configured. */
  sandboxOutbox(to?: string): OutboxMail[] {
    const wanted = to?.trim().toLowerCase();
    return this.outbox.filter((mail) => !wanted || mail.to.toLowerCase() === wanted);
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}
