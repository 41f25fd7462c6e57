import { keyvJsonSerializer } from './keyv-json.serializer';

describe('keyvJsonSerializer', () => {
  it('should splice pre-serialised JSON into the envelope and read it back parsed', () => {
    const text = keyvJsonSerializer.serialize({ value: '{"a":[1,"x\\"y"]}', expires: 1700000000000 });
    expect(text).toBe('{"value":{"a":[1,"x\\"y"]},"expires":1700000000000}');
    expect(keyvJsonSerializer.deserialize(text)).toEqual({
      value: { a: [1, 'x"y'] },
      expires: 1700000000000,
    });
  });

  it('should write a null expiry when the entry has no ttl', () => {
    expect(keyvJsonSerializer.serialize({ value: '1' })).toBe('{"value":1,"expires":null}');
  });

  it('should read an entry that is not JSON, or not an object, as absent', () => {
    expect(keyvJsonSerializer.deserialize('not json')).toBeUndefined();
    expect(keyvJsonSerializer.deserialize('null')).toBeUndefined();
    expect(keyvJsonSerializer.deserialize('42')).toBeUndefined();
  });
});
