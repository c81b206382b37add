import { Global, Module } from '@nestjs/common';
import { OpenChannelClient } from './open-channel-client';

@Global()
@Module({ providers: [OpenChannelClient], exports: [OpenChannelClient] })
export class ContactCenterModule {}
