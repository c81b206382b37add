import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { bytes, col, index, largeText } from './helpers';

export class InitialSchema1763700000000 implements MigrationInterface {
  name = 'InitialSchema1763700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(new Table({
      name: 'tenants',
      columns: [col.id(), col.string('email', 254), col.string('password_hash', 255), col.string('status', 16),
        col.time('created_at'), col.time('updated_at')],
      indices: [index('tenants', ['email'], true)],
    }));

    await queryRunner.createTable(new Table({
      name: 'facebook_identities',
      columns: [col.id(), col.ref('tenant_id'), col.string('facebook_user_id', 64), col.string('name', 255),
        col.text('user_token_enc', false), col.time('token_expires_at', true), col.text('granted_scopes'),
        col.text('declined_scopes'), col.time('created_at'), col.time('updated_at')],
      indices: [index('facebook_identities', ['tenant_id', 'facebook_user_id'], true)],
    }));

    await queryRunner.createTable(new Table({
      name: 'integrations',
      columns: [col.id(), col.ref('tenant_id'), col.string('name', 100), col.string('page_id', 64),
        col.string('page_name', 255), col.string('bound_page_id', 64, true), col.ref('facebook_identity_id', true),
        col.text('page_token_enc'), col.text('openchannel_url_enc', false), col.text('api_key_enc'),
        col.string('reply_token_hash', 64), col.text('reply_token_enc', false), col.text('signing_secret_enc'),
        col.bool('wall_posts', true), col.bool('enabled', true), col.string('status', 32), col.text('status_reason'),
        col.bool('human_agent_tag', false), col.bool('forward_reactions', false), col.bool('forward_edits', false),
        col.bool('page_subscribed', false), col.time('last_event_at', true), col.time('last_delivery_at', true),
        col.time('last_checked_at', true), col.time('created_at'), col.time('updated_at')],
      indices: [
        index('integrations', ['tenant_id']),
        index('integrations', ['page_id']),
        index('integrations', ['bound_page_id'], true),
        index('integrations', ['reply_token_hash'], true),
      ],
    }));

    await queryRunner.createTable(new Table({
      name: 'conversations',
      columns: [col.id(), col.ref('tenant_id'), col.ref('integration_id'), col.string('channel', 16),
        col.string('customer_id', 64), col.string('thread_id', 128), col.string('customer_name', 255, true),
        col.string('first_name', 128, true), col.string('last_name', 128, true),
        col.time('last_customer_message_at', true), col.string('last_customer_comment_id', 128, true),
        col.time('created_at'), col.time('updated_at')],
      indices: [
        index('conversations', ['integration_id', 'customer_id', 'thread_id'], true),
        index('conversations', ['tenant_id', 'updated_at']),
      ],
    }));

    await queryRunner.createTable(new Table({
      name: 'messages',
      columns: [col.id(), col.ref('tenant_id'), col.ref('integration_id'), col.ref('conversation_id', true),
        col.string('direction', 3), col.string('kind', 24), col.string('event', 24),
        largeText(queryRunner, 'text'), largeText(queryRunner, 'payload'), col.string('status', 16),
        col.int('attempts'), col.text('last_error'), col.time('next_attempt_at', true),
        col.string('dedup_key', 191, true), col.string('external_id', 191, true), col.string('remote_id', 64, true),
        col.ref('blob_id', true), col.bigint('occurred_at'), col.int('part'),
        col.time('created_at'), col.time('updated_at'), col.time('delivered_at', true)],
      indices: [
        index('messages', ['dedup_key'], true),
        index('messages', ['conversation_id', 'occurred_at', 'part']),
        index('messages', ['status', 'next_attempt_at']),
        index('messages', ['tenant_id', 'integration_id', 'created_at']),
        index('messages', ['external_id']),
      ],
    }));

    await queryRunner.createTable(new Table({
      name: 'blobs',
      columns: [col.id(), col.ref('tenant_id'), col.ref('integration_id', true), col.string('content_type', 127),
        col.string('filename', 255), col.int('size'), col.string('sha256', 64), bytes(queryRunner, 'data'),
        col.time('expires_at', true), col.time('created_at')],
      indices: [index('blobs', ['tenant_id']), index('blobs', ['expires_at'])],
    }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['blobs', 'messages', 'conversations', 'integrations', 'facebook_identities', 'tenants']) {
      await queryRunner.dropTable(table, true);
    }
  }
}
