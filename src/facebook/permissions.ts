/** The permissions the relay asks for (facebook-platform.md §6.9) and why, in words for the tenant. */
export const RELAY_SCOPES: ReadonlyArray<{ scope: string; why: string }> = [
  { scope: 'pages_show_list', why: 'list the pages you manage' },
  { scope: 'pages_manage_metadata', why: 'subscribe the relay to your page\'s events' },
  { scope: 'pages_messaging', why: 'receive and answer Messenger conversations' },
  { scope: 'pages_read_engagement', why: 'read your page\'s posts and comments' },
  { scope: 'pages_read_user_content', why: 'read what visitors post and comment on your page' },
  { scope: 'pages_manage_engagement', why: 'answer comments as the page' },
  { scope: 'business_management', why: 'see pages owned through a Business portfolio' },
];

export const REQUIRED_SCOPES = RELAY_SCOPES.map((entry) => entry.scope);

/** Scopes a Messenger-only integration cannot work without (wall posts need the engagement ones too). */
export const MESSENGER_SCOPES = ['pages_show_list', 'pages_manage_metadata', 'pages_messaging'];
export const WALL_SCOPES = ['pages_read_engagement', 'pages_read_user_content', 'pages_manage_engagement'];

export function missingScopes(granted: Iterable<string>, needed: readonly string[] = REQUIRED_SCOPES): string[] {
  const have = new Set(granted);
  return needed.filter((scope) => !have.has(scope));
}

export function describeMissing(scopes: string[]): string {
  const reasons = scopes.map((scope) => `${scope} (to ${RELAY_SCOPES.find((entry) => entry.scope === scope)?.why ?? 'work'})`);
  return `Facebook did not grant the relay ${reasons.join(', ')}. Use "Ask again" and keep every permission ticked.`;
}

export function splitScopes(stored: string | null | undefined): string[] {
  return (stored ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
