import { Global, Module } from '@nestjs/common';
import { BlobStore } from './blob-store';

@Global()
@Module({ providers: [BlobStore], exports: [BlobStore] })
export class BlobsModule {}
