import type { Failures } from './failures';
import type { SandboxState } from './state';

/** What every route module gets: the state, the failure injector, settings and the public base URL. */
export interface SandboxContext {
  state: SandboxState;
  failures: Failures;
  /** Largest accepted attachment, bytes. */
  maxAttachmentBytes: number;
  /** Largest accepted JSON body (notify, control), bytes. */
  maxJsonBytes: number;
  /** Status of a successful attachment upload (Motion answers 201). */
  uploadStatus: number;
  /** The base URL shown on the page and used in Receive URLs, e.g. http://127.0.0.1:3002 */
  publicUrl(): string;
  /** A timer that close() can cancel. */
  delay(ms: number): Promise<void>;
}
