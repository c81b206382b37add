import { Global, Module } from '@nestjs/common';
import { MailService } from './mail.service';
import { OutboxController } from './outbox.controller';

/** MailService for every feature. */
@Global()
@Module({ providers: [MailService], controllers: [OutboxController], exports: [MailService] })
export class MailModule {}
