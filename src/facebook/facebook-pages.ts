import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GraphClient } from './graph-client';

export interface ManagedPage {
  id: string;
  name: string;
  category?: string;
  tasks: string[];
  accessToken?: string;
}

/** Webhook fields a page is subscribed to for the relay (facebook-platform.md §6.8). */
export function subscribedFields(wallPosts: boolean): string[] {
  const fields = [
    'messages', 'message_echoes', 'message_deliveries', 'message_reads', 'message_reactions', 'message_edits',
    'messaging_postbacks', 'messaging_referrals', 'standby',
  ];
  return wallPosts ? [...fields, 'feed'] : fields;
}

/** Why a page cannot be bound by this user, or null when it can. */
export function pageUnavailableReason(page: Pick<ManagedPage, 'tasks'>, wallPosts = true): string | null {
  const tasks = new Set(page.tasks);
  if (!tasks.has('MODERATE')) {
    return 'Your role on this page lacks the "Moderate" task (manage messages and community): ask a page admin to give it to you, then reload.';
  }
  if (wallPosts && !['CREATE_CONTENT', 'MANAGE', 'MODERATE'].some((task) => tasks.has(task))) {
    return 'Your role on this page cannot manage posts: turn off wall post management or ask for the "Create content" task.';
  }
  return null;
}

export interface TokenDebug {
  isValid: boolean;
  type?: string;
  expiresAt?: number;
  scopes: string[];
  error?: { code?: number; subcode?: number; message?: string };
}

/** Graph calls about pages: the user's pages, page tokens, webhook subscriptions, token checks. */
@Injectable()
export class FacebookPages {
  constructor(private readonly graph: GraphClient, private readonly config: AppConfig) {}

  /** Every page the user can act on (`/me/accounts`, all pages of results). */
  async listManaged(userToken: string): Promise<ManagedPage[]> {
    const rows = await this.graph.getAll<{ id: string; name: string; category?: string; tasks?: string[]; access_token?: string }>('me/accounts', {
      token: userToken,
      params: { fields: 'id,name,category,tasks,access_token', limit: 100 },
    });
    return rows.map((row) => ({ id: String(row.id), name: row.name, category: row.category, tasks: row.tasks ?? [], accessToken: row.access_token }));
  }

  async findManaged(userToken: string, pageId: string): Promise<ManagedPage | null> {
    return (await this.listManaged(userToken)).find((page) => page.id === pageId) ?? null;
  }

  async subscribe(pageId: string, pageToken: string, wallPosts: boolean): Promise<void> {
    await this.graph.post(`${encodeURIComponent(pageId)}/subscribed_apps`, {
      token: pageToken,
      params: { subscribed_fields: subscribedFields(wallPosts).join(',') },
    });
  }

  async unsubscribe(pageId: string, pageToken: string): Promise<void> {
    await this.graph.delete(`${encodeURIComponent(pageId)}/subscribed_apps`, { token: pageToken });
  }

  /** The fields this app is subscribed to on the page, or null when the app is not installed there. */
  async subscription(pageId: string, pageToken: string): Promise<string[] | null> {
    const answer = await this.graph.get<{ data?: Array<{ id: string; subscribed_fields?: string[] }> }>(`${encodeURIComponent(pageId)}/subscribed_apps`, { token: pageToken });
    const ours = (answer.data ?? []).find((app) => String(app.id) === this.config.facebook.appId);
    return ours ? ours.subscribed_fields ?? [] : null;
  }

  /** `/debug_token` with the app token (facebook-platform.md §6.7). */
  async debugToken(token: string): Promise<TokenDebug> {
    const { appId, appSecret } = this.config.facebook;
    const answer = await this.graph.get<{ data?: { is_valid?: boolean; type?: string; expires_at?: number; scopes?: string[]; error?: { code?: number; subcode?: number; message?: string } } }>('debug_token', {
      params: { input_token: token, access_token: `${appId}|${appSecret}` },
    });
    const data = answer.data ?? {};
    return { isValid: Boolean(data.is_valid), type: data.type, expiresAt: data.expires_at, scopes: data.scopes ?? [], error: data.error };
  }
}
