import fc from 'fast-check';
import { canonicalJson } from './canonical-json';

/** The same JSON value with every object's keys in another order. */
function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffleKeys(v, seed + i));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  entries.sort(
    (a, b) => ((a[0].length * 31 + seed) % 7) - ((b[0].length * 17 + seed) % 7) || (seed % 2 ? 1 : -1),
  );
  return Object.fromEntries(entries.reverse().map(([k, v]) => [k, shuffleKeys(v, seed + 1)]));
}

describe(canonicalJson.name, () => {
  it('should give the same text when only the order of keys differs, at any depth', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 1000 }), (value, seed) => {
        expect(canonicalJson(shuffleKeys(value, seed))).toBe(canonicalJson(value));
      }),
    );
  });

  it('should produce JSON that parses back to an equal value when there is nothing to skip', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('should sort keys and keep array order when serialising', () => {
    expect(canonicalJson({ b: 1, a: [3, 1, { d: null, c: 'x' }] })).toBe(
      '{"a":[3,1,{"c":"x","d":null}],"b":1}',
    );
  });

  it('should leave out skipped and null top-level keys but keep nested nulls when skipping', () => {
    const skip = new Set(['stream', 'user']);
    expect(canonicalJson({ stream: true, user: 'u', seed: null, m: { n: null }, z: undefined }, skip)).toBe(
      '{"m":{"n":null}}',
    );
  });

  it('should keep a __proto__ key of a parsed body as an ordinary key when sorting copies it', () => {
    const a = JSON.parse('{"z":1,"__proto__":{"x":1}}') as unknown;
    const b = JSON.parse('{"z":1,"__proto__":{"x":2}}') as unknown;
    expect(canonicalJson(a)).toBe('{"__proto__":{"x":1},"z":1}');
    expect(canonicalJson(a, new Set())).not.toBe(canonicalJson(b, new Set()));
  });

  it('should write undefined array elements as null as JSON.stringify does', () => {
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
  });
});
