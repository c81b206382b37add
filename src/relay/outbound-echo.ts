/**
 * The `metadata` the relay sends with each Messenger message of a reply, and reads back from Facebook's echo
 * (message_echoes) of it. The echo of a reply sent as one message names the reply's row: it proves the send even
 * when the relay never saw Facebook's answer (a crash, a dropped connection, a timeout).
 */
const PREFIX = 'relay:outbound:';

/**
 * `relay:outbound:<row id>` for a reply sent as one message; `relay:outbound:<row id>#<part>` for each part of a
 * text split in several, whose echoes do not confirm the whole reply.
 */
export function outboundMetadata(rowId: string, part?: { index: number; of: number }): string {
  return part && part.of > 1 ? `${PREFIX}${rowId}#${part.index}` : `${PREFIX}${rowId}`;
}

/** The row whose whole reply an echo confirms, or null (a part of a split text, another app's metadata). */
export function rowConfirmedByEcho(metadata: unknown): string | null {
  const named = namedByEcho(metadata);
  return named && named.part === undefined ? named.rowId : null;
}

/** The row and part an echo of one part of a split text names (`relay:outbound:<row id>#<part>`), or null. */
export function partConfirmedByEcho(metadata: unknown): { rowId: string; part: number } | null {
  const named = namedByEcho(metadata);
  return named && named.part !== undefined ? { rowId: named.rowId, part: named.part } : null;
}

function namedByEcho(metadata: unknown): { rowId: string; part?: number } | null {
  if (typeof metadata !== 'string' || !metadata.startsWith(PREFIX)) return null;
  const named = /^([A-Za-z0-9_-]{1,64})(?:#(\d{1,4}))?$/.exec(metadata.slice(PREFIX.length));
  return named ? { rowId: named[1], part: named[2] === undefined ? undefined : Number(named[2]) } : null;
}
