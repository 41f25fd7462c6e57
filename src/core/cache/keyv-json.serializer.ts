import type { DeserializedData } from 'keyv';

/**
 * Keyv's serializer pair for values the response cache has already turned into JSON text: the text
 * is spliced into Keyv's `{value, expires}` envelope as is (no second encoding, no escaping), so the
 * size check before a write and the write itself cost one `JSON.stringify`. Reading parses the
 * envelope once; an entry that is not valid JSON (written by something else under our prefix) reads
 * as absent instead of failing the store.
 */
export const keyvJsonSerializer = {
  serialize: <Value>(data: DeserializedData<Value>): string =>
    `{"value":${String(data.value)},"expires":${typeof data.expires === 'number' ? data.expires : 'null'}}`,
  deserialize: <Value>(text: string): DeserializedData<Value> | undefined => {
    try {
      const parsed = JSON.parse(text) as DeserializedData<Value> | null;
      return parsed !== null && typeof parsed === 'object' ? parsed : undefined;
    } catch {
      return undefined;
    }
  },
};
