import { createHash } from 'node:crypto';
import { CHAT_ENDPOINT, EMBEDDINGS_ENDPOINT } from '../context/request-context';
import { canonicalJson } from './canonical-json';

/**
 * Bumped whenever what is stored under a key changes shape: entries written by an older format are
 * then simply never read (they expire by their TTL).
 */
export const CACHE_FORMAT_VERSION = 'v1';

/**
 * Request fields that never change the answer, per endpoint: how it is delivered (`stream`,
 * `stream_options`, `encoding_format`: a hit is re-encoded for the asker) and who asked (`user`).
 */
const IGNORED_FIELDS: Record<string, ReadonlySet<string>> = {
  [CHAT_ENDPOINT]: new Set(['stream', 'stream_options', 'user']),
  [EMBEDDINGS_ENDPOINT]: new Set(['encoding_format', 'user']),
};
const NOTHING_IGNORED: ReadonlySet<string> = new Set();

const SHORT_NAMES: Record<string, string> = { [CHAT_ENDPOINT]: 'chat', [EMBEDDINGS_ENDPOINT]: 'embeddings' };

/**
 * `<prefix><version>:<endpoint>:<sha256 of the canonical body>`. The body carries the requested
 * `model` (alias or concrete, as asked) and every other field, in any key order; see IGNORED_FIELDS.
 */
export function cacheKey(prefix: string, endpoint: string, body: Record<string, unknown>): string {
  const canonical = canonicalJson(body, IGNORED_FIELDS[endpoint] ?? NOTHING_IGNORED);
  const digest = createHash('sha256').update(endpoint).update('\n').update(canonical).digest('hex');
  return `${prefix}${CACHE_FORMAT_VERSION}:${SHORT_NAMES[endpoint] ?? 'other'}:${digest}`;
}
