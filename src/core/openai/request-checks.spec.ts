import { InvalidRequestError } from '../errors/request-errors';
import { checkModelId, checkNesting, MAX_JSON_DEPTH, nestsDeeperThan } from './request-checks';

const arrays = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));
const objects = (depth: number): unknown => JSON.parse('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));

describe(nestsDeeperThan.name, () => {
  it('should count one level per array or object and none for scalars', () => {
    expect(nestsDeeperThan('x', 0)).toBe(false);
    expect(nestsDeeperThan(null, 0)).toBe(false);
    expect(nestsDeeperThan([], 0)).toBe(true);
    expect(nestsDeeperThan([], 1)).toBe(false);
    expect(nestsDeeperThan(arrays(5), 5)).toBe(false);
    expect(nestsDeeperThan(arrays(6), 5)).toBe(true);
    expect(nestsDeeperThan(objects(5), 5)).toBe(false);
    expect(nestsDeeperThan(objects(6), 5)).toBe(true);
    expect(nestsDeeperThan({ a: [1, { b: [2] }], c: 'x' }, 4)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: [[2]] }], c: 'x' }, 4)).toBe(true);
  });

  it('should see nesting under a __proto__ key that JSON.parse made an own property', () => {
    const body = JSON.parse(`{"__proto__":${JSON.stringify(arrays(10))}}`) as unknown;
    expect(nestsDeeperThan(body, 10)).toBe(true);
    expect(nestsDeeperThan(body, 11)).toBe(false);
  });

  it('should answer without exhausting the stack for nesting far deeper than JSON.stringify survives', () => {
    const deep = arrays(200_000);
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(nestsDeeperThan(deep, MAX_JSON_DEPTH)).toBe(true);
  });
});

describe(checkNesting.name, () => {
  it('should accept a body at the limit and name the field of a body past it', () => {
    expect(() => checkNesting({ tools: arrays(MAX_JSON_DEPTH - 1) })).not.toThrow();
    let error: unknown;
    try {
      checkNesting({ model: 'x', metadata: objects(MAX_JSON_DEPTH) });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({
      status: 400,
      param: 'metadata',
      message: `'metadata' is nested more than ${MAX_JSON_DEPTH} levels deep`,
    });
  });
});

describe(checkModelId.name, () => {
  it.each(['ollama/caf\u00e9', 'groq/\u202emodel', 'ollama/\ud83d\ude00', 'x\u0085'])(
    'should refuse the non-ASCII model id %j with a 400 naming model',
    (id) => {
      expect(() => checkModelId(id)).toThrow(InvalidRequestError);
    },
  );

  it.each(['ollama/gemma3:4b', 'hf.co/org/model:Q4_K_M', 'openrouter/meta-llama/llama-3.1-8b-instruct'])(
    'should accept the model id %s',
    (id) => {
      expect(checkModelId(id)).toBe(id);
    },
  );
});
