import { setWireJson, spliceModel, wireJson } from './wire-json';

const LABEL = JSON.stringify('groq/llama-3.1-8b-instant');

describe('spliceModel', () => {
  it('should replace the value of the one top-level model key and keep every other byte', () => {
    const data = '{"id":"c1","model":"llama-3.1-8b-instant","choices":[{"delta":{"content":"hi"}}],"x":1e-7}';
    expect(spliceModel(data, 'llama-3.1-8b-instant', LABEL)).toBe(
      '{"id":"c1","model":"groq/llama-3.1-8b-instant","choices":[{"delta":{"content":"hi"}}],"x":1e-7}',
    );
  });

  it('should accept whitespace around the colon, as Python serialisers write it', () => {
    const data = '{"id": "c1", "model" :  "m", "choices": []}';
    expect(spliceModel(data, 'm', LABEL)).toBe(
      '{"id": "c1", "model" :  "groq/llama-3.1-8b-instant", "choices": []}',
    );
  });

  it('should splice a value written with escapes when its encoding is the standard one', () => {
    const data = '{"model":"a\\"b","choices":[]}';
    expect(spliceModel(data, 'a"b', LABEL)).toBe('{"model":"groq/llama-3.1-8b-instant","choices":[]}');
  });

  it('should give up when the value is written with escapes JSON.stringify would not use', () => {
    expect(spliceModel('{"model":"a\\/b","choices":[]}', 'a/b', LABEL)).toBeUndefined();
    expect(spliceModel('{"model":"\\u006d","choices":[]}', 'm', LABEL)).toBeUndefined();
  });

  it('should give up when "model" occurs twice (a nested key, or a value of that name)', () => {
    expect(spliceModel('{"model":"m","meta":{"model":"m"}}', 'm', LABEL)).toBeUndefined();
    expect(spliceModel('{"model":"model"}', 'model', LABEL)).toBeUndefined();
    expect(spliceModel('{"model":"m","model":"n"}', 'n', LABEL)).toBeUndefined();
  });

  it('should give up without a model key or with a model that is not a string', () => {
    expect(spliceModel('{"id":"c1","choices":[]}', undefined, LABEL)).toBeUndefined();
    expect(spliceModel('{"model":7}', 7, LABEL)).toBeUndefined();
    expect(spliceModel('{"role":"model"}', undefined, LABEL)).toBeUndefined();
  });

  it('should not take escaped quotes inside a string for the key', () => {
    const data = '{"choices":[{"delta":{"content":"say \\"model\\": \\"x\\""}}],"model":"m"}';
    expect(spliceModel(data, 'm', LABEL)).toBe(
      '{"choices":[{"delta":{"content":"say \\"model\\": \\"x\\""}}],"model":"groq/llama-3.1-8b-instant"}',
    );
  });

  it('should encode a label that needs escaping', () => {
    expect(spliceModel('{"model":"m"}', 'm', JSON.stringify('a"b'))).toBe('{"model":"a\\"b"}');
  });
});

describe('wireJson', () => {
  it('should return the attached text, never the symbol in a serialisation, and serialise without one', () => {
    const value = { model: 'x', n: 1 };
    setWireJson(value, '{"model":"x","n":1.0}');
    expect(wireJson(value)).toBe('{"model":"x","n":1.0}');
    expect(JSON.stringify(value)).toBe('{"model":"x","n":1}');
    expect(Object.keys({ ...value })).toEqual(['model', 'n']);
    expect(wireJson({ model: 'x', n: 1 })).toBe('{"model":"x","n":1}');
  });
});
