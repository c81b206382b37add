import { Global, Module } from '@nestjs/common';
import { GraphClient } from './graph-client';

@Global()
@Module({ providers: [GraphClient], exports: [GraphClient] })
export class GraphModule {}
