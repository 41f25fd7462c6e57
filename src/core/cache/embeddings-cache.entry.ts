/**
 * What the cache stores for an embeddings request: the float vectors exactly as the provider gave
 * them (never the base64 text, so a `float` asker gets the original numbers back), the prompt tokens
 * and the `provider/model` that answered. The response is re-encoded for each asker (`float` or
 * `base64`). Changing this shape means bumping CACHE_FORMAT_VERSION.
 */
export interface CachedEmbeddings {
  resolved: string;
  vectors: number[][];
  promptTokens: number;
}
