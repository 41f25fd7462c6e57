/**
 * The exact JSON text of an answer or chunk, when an adapter already has it: an OpenAI-compatible
 * upstream's answer or SSE event whose only change is the `model` label is written out as the
 * upstream's own bytes with the label spliced in, instead of being serialised again
 * (`JSON.stringify` was the largest single cost of a stream, docs/performance.md). A symbol key:
 * `JSON.stringify`, spreads and the in-process client's callers never see it.
 *
 * Valid only for the object as the adapter returned it: nothing downstream of the adapters changes a
 * chunk or an answer; code that ever does must remove the text first, or the client would get the
 * unchanged upstream bytes.
 */
export const WIRE_JSON = Symbol('mana-llm:wire-json');

type WithWireJson = { [WIRE_JSON]?: string };

/** The value's JSON text: the adapter's, or a fresh serialisation. */
export function wireJson(value: object): string {
  return (value as WithWireJson)[WIRE_JSON] ?? JSON.stringify(value);
}

export function setWireJson(value: object, json: string): void {
  (value as WithWireJson)[WIRE_JSON] = json;
}

/**
 * `data` (a JSON object's text) with the string value of its top-level `"model"` key replaced by
 * `labelJson` (already JSON-encoded), or `undefined` when that cannot be done with certainty: no
 * `"model"` key, more than one `"model"` token in the text (a nested key or a value of that name),
 * a key spelled with escapes, or a value that is not the exact encoding of `model` (what the parse
 * found). A string value cannot contain `"model"` unescaped, so one such token followed by `:` is
 * the key; the caller then serialises the chunk as usual.
 */
export function spliceModel(data: string, model: unknown, labelJson: string): string | undefined {
  if (typeof model !== 'string') return undefined;
  const key = data.indexOf('"model"');
  if (key === -1 || data.indexOf('"model"', key + 7) !== -1) return undefined;
  let i = skipSpace(data, key + 7);
  if (data.charCodeAt(i) !== 0x3a /* : */) return undefined;
  i = skipSpace(data, i + 1);
  if (data.charCodeAt(i) !== 0x22 /* " */) return undefined;
  // The common value has no escapes: its encoding is the value between quotes.
  const end = i + 1 + model.length;
  if (data.charCodeAt(end) === 0x22 && data.startsWith(model, i + 1) && !model.includes('\\')) {
    return data.slice(0, i) + labelJson + data.slice(end + 1);
  }
  const encoded = JSON.stringify(model);
  if (!data.startsWith(encoded, i)) return undefined;
  return data.slice(0, i) + labelJson + data.slice(i + encoded.length);
}

function skipSpace(data: string, i: number): number {
  let c = data.charCodeAt(i);
  while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = data.charCodeAt(++i);
  return i;
}
