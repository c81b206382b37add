import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { LessThan } from 'typeorm';
import { newId } from '../common/ids';
import { Database } from '../database/database';
import { Blob } from './blob.entity';

export interface StoredBlob {
  id: string;
  contentType: string;
  filename: string;
  size: number;
  sha256: string;
}

/** Attachment bytes in the database (both backends), each with an expiry; always scoped by tenant. */
@Injectable()
export class BlobStore {
  constructor(private readonly database: Database) {}

  async put(tenantId: string, file: { bytes: Buffer; contentType: string; filename: string; integrationId?: string | null; ttlMs?: number }): Promise<StoredBlob> {
    const row: Blob = {
      id: newId(),
      tenantId,
      integrationId: file.integrationId ?? null,
      contentType: file.contentType,
      filename: file.filename.slice(0, 255),
      size: file.bytes.length,
      sha256: createHash('sha256').update(file.bytes).digest('hex'),
      data: file.bytes,
      expiresAt: file.ttlMs ? new Date(Date.now() + file.ttlMs) : null,
      createdAt: new Date(),
    };
    await this.database.repo(Blob).insert(row);
    const { data: _data, ...meta } = row;
    return meta;
  }

  /** Metadata only. */
  async find(tenantId: string, id: string): Promise<StoredBlob | null> {
    return this.database.repo(Blob).findOne({ where: { tenantId, id } });
  }

  async read(tenantId: string, id: string): Promise<(StoredBlob & { bytes: Buffer }) | null> {
    const row = await this.database.repo(Blob).createQueryBuilder('b').addSelect('b.data').where('b.tenant_id = :tenantId AND b.id = :id', { tenantId, id }).getOne();
    if (!row) return null;
    const { data, ...meta } = row;
    return { ...meta, bytes: Buffer.from(data) };
  }

  async delete(tenantId: string, id: string): Promise<void> {
    await this.database.repo(Blob).delete({ tenantId, id });
  }

  /** Removes blobs past their expiry; returns how many. */
  async deleteExpired(now = new Date()): Promise<number> {
    const result = await this.database.repo(Blob).delete({ expiresAt: LessThan(now) });
    return result.affected ?? 0;
  }
}
