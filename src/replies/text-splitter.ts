/** Facebook's limit: message.text must be shorter than 2000 characters. */
export const MESSENGER_TEXT_LIMIT = 1999;

/**
 * Splits text into parts of at most `limit` UTF-16 code units, at word boundaries where possible
 * (a line break in the second half of the window first, then any whitespace). A word longer than
 * the limit is cut hard, never between the two halves of a surrogate pair. Parts keep their order.
 */
export function splitText(text: string, limit = MESSENGER_TEXT_LIMIT): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const window = rest.slice(0, limit + 1);
    let cut = lastBreak(window, /\n/, limit / 2);
    if (cut <= 0) cut = lastBreak(window, /\s/, 0);
    if (cut <= 0) {
      cut = limit;
      if (isHighSurrogate(rest.charCodeAt(cut - 1))) cut -= 1;
    }
    const part = rest.slice(0, cut).trimEnd();
    if (part) parts.push(part);
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}

/** Index of the last character matching `pattern` in `window` at or after `from`, or -1. */
function lastBreak(window: string, pattern: RegExp, from: number): number {
  for (let i = window.length - 1; i >= from; i--) if (pattern.test(window[i])) return i;
  return -1;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
