import { Module } from '@nestjs/common';
import { ConversationHistory } from './conversation-history';
import { ConversationsController } from './conversations.controller';
import { Deliveries } from './deliveries';

/** History (conversations and threads with their files) and deliveries (attempts, bulk replay). */
@Module({
  controllers: [ConversationsController],
  providers: [ConversationHistory, Deliveries],
})
export class ConversationsModule {}
