import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { BlobStore } from '../blobs/blob-store';
import { Blob } from '../blobs/blob.entity';
import { RelayHttpError } from '../common/errors/http-errors';
import { Database } from '../database/database';
import { FileLinks } from './file-links';

/** Serves a blob to whoever holds a valid signed link (Facebook fetching a comment picture). */
@ApiExcludeController()
@Controller('files')
export class FilesController {
  constructor(private readonly links: FileLinks, private readonly database: Database, private readonly blobs: BlobStore) {}

  @Get(':id')
  async download(@Param('id') id: string, @Query('expires') expires: string | undefined, @Query('signature') signature: string | undefined, @Res() res: Response): Promise<void> {
    const check = this.links.check(id, expires, signature);
    if (check === 'invalid') throw new RelayHttpError(403, 'invalid_link', 'This file link is not valid: it was changed or is incomplete.');
    if (check === 'expired') throw new RelayHttpError(410, 'link_expired', 'This file link has expired: file links work for 24 hours.');
    // The signature names the blob, so the owner's tenant id comes from the row itself.
    const meta = await this.database.repo(Blob).findOne({ where: { id }, select: { id: true, tenantId: true, expiresAt: true } });
    const file = meta ? await this.blobs.read(meta.tenantId, id) : null;
    if (!file || (meta?.expiresAt && meta.expiresAt.getTime() < Date.now())) {
      throw new RelayHttpError(410, 'file_gone', 'This file is no longer kept by the relay: files are kept for 24 hours.');
    }
    res.setHeader('Content-Type', file.contentType);
    res.setHeader('Content-Length', String(file.bytes.length));
    res.setHeader('Content-Disposition', `inline; filename*=UTF-8''${encodeURIComponent(file.filename)}`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.end(file.bytes);
  }
}
