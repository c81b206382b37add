import { Global, Module } from '@nestjs/common';
import { SecretBox } from './crypto/secret-box';
import { OutboundHttp } from './http/outbound-http';

/** The few shared pieces every feature may use. */
@Global()
@Module({ providers: [SecretBox, OutboundHttp], exports: [SecretBox, OutboundHttp] })
export class CommonModule {}
