import { Module } from '@nestjs/common';
import { AgentAttachments } from './agent-attachments';
import { FacebookSends } from './facebook-sends';
import { FileLinks } from './file-links';
import { FilesController } from './files.controller';
import { OutboundMessages } from './outbound-messages';
import { PagePacer } from './page-pacer';
import { ReplyController } from './reply.controller';
import { ReplyLookups } from './reply-lookups';
import { ReplyService } from './reply.service';
import { ReplyTokenGuard } from './reply-token.guard';

/** Outbound: the contact center's `POST /api/reply` to Facebook, and the signed `/files/...` links. */
@Module({
  controllers: [ReplyController, FilesController],
  providers: [
    ReplyService,
    ReplyTokenGuard,
    ReplyLookups,
    OutboundMessages,
    FacebookSends,
    AgentAttachments,
    FileLinks,
    { provide: PagePacer, useFactory: () => new PagePacer() },
  ],
  exports: [FileLinks],
})
export class RepliesModule {}
