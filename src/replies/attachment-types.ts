/** Messenger's attachment types (facebook-platform.md §4.3). */
export type MessengerAttachmentType = 'image' | 'video' | 'audio' | 'file';

/** Facebook's limit for an attachment, and Motion's largest setting. */
export const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

const EXECUTABLE_TYPES = new Set([
  'application/x-msdownload',
  'application/x-msdos-program',
  'application/x-dosexec',
  'application/x-executable',
  'application/x-elf',
  'application/x-mach-binary',
  'application/vnd.microsoft.portable-executable',
  'application/x-ms-installer',
  'application/x-msi',
  'application/x-sh',
  'application/x-bat',
  'application/java-archive',
  'application/x-java-archive',
  'application/vnd.android.package-archive',
]);

const EXECUTABLE_EXTENSIONS = /\.(exe|com|bat|cmd|scr|msi|pif|cpl|jar|apk|vbs|ps1|sh)$/i;

/** Image types Messenger and comments display; other image types go as files. */
const DISPLAYABLE_IMAGES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/bmp']);

/** The MIME type without parameters, lower case; `application/octet-stream` when missing. */
export function normalizeMime(type: string | null | undefined): string {
  const base = (type ?? '').split(';')[0].trim().toLowerCase();
  return /^[\w.+-]+\/[\w.+-]+$/.test(base) ? base : 'application/octet-stream';
}

/** Why Facebook should not get this file, or null when it may go. */
export function refuseReason(mime: string, filename: string): string | null {
  if (EXECUTABLE_TYPES.has(mime) || EXECUTABLE_EXTENSIONS.test(filename)) {
    return `The file "${filename}" (${mime}) is a program: Facebook does not accept executable files. Send a document, image, audio or video file instead.`;
  }
  return null;
}

export function messengerTypeFor(mime: string): MessengerAttachmentType {
  if (DISPLAYABLE_IMAGES.has(mime)) return 'image';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  return 'file';
}

/** Comments take a picture by URL only (attachment_url): other files cannot go on the wall. */
export function commentAcceptsMime(mime: string): boolean {
  return DISPLAYABLE_IMAGES.has(mime);
}
