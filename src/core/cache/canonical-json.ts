/**
 * JSON with object keys sorted at every depth, so two bodies that differ only in key order serialise
 * to the same text. Arrays keep their order (order is meaning there); `undefined` members are left out
 * as `JSON.stringify` does; `skip` names top-level keys to leave out (and top-level `null`s go too:
 * for OpenAI a `null` field means "the default", exactly like an absent one).
 */
export function canonicalJson(value: unknown, skip?: ReadonlySet<string>): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return canonicalArray(value);
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = object[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    if (skip && (skip.has(key) || member === null)) continue;
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(member);
    first = false;
  }
  return out + '}';
}

function canonicalArray(items: unknown[]): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    // As JSON.stringify: an undefined, function or symbol element is written as null.
    const text =
      item === undefined || typeof item === 'function' || typeof item === 'symbol'
        ? 'null'
        : canonicalJson(item);
    out += (i === 0 ? '' : ',') + text;
  }
  return out + ']';
}
