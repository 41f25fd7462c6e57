import { CancelSignal } from './cancel-signal';

/** Per-request facts that travel from the edge (HTTP or the in-process client) into the core. */
export interface RequestContext {
  requestId: string;
  /** The calling app (`X-Mana-App`), `unknown` when not given. */
  app: string;
  /** Fires when the caller goes away. */
  signal?: CancelSignal;
  /** `Cache-Control: no-cache` (skip read) / `no-store` (skip read and write). */
  cache?: { read: boolean; write: boolean };
}

export const CHAT_ENDPOINT = '/v1/chat/completions';
export const EMBEDDINGS_ENDPOINT = '/v1/embeddings';
