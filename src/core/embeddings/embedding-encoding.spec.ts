import fc from 'fast-check';
import { decodeEmbeddingBase64, encodeEmbeddingBase64 } from './embedding-encoding';

describe(encodeEmbeddingBase64.name, () => {
  it('should write little-endian float32 values, as OpenAI and its SDKs do', () => {
    // 1.0f = 0x3f800000, -2.0f = 0xc0000000: little-endian bytes 00 00 80 3f / 00 00 00 c0.
    expect(Buffer.from(encodeEmbeddingBase64([1, -2]), 'base64').toString('hex')).toBe('0000803f000000c0');
    expect(encodeEmbeddingBase64([])).toBe('');
  });

  it('should round a double to the nearest float32 and decode back to exactly that', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e30, max: 1e30 }), { maxLength: 64 }),
        (vector) => {
          expect(decodeEmbeddingBase64(encodeEmbeddingBase64(vector))).toEqual(vector.map(Math.fround));
        },
      ),
    );
  });
});

describe(decodeEmbeddingBase64.name, () => {
  it('should read base64 float32 values and refuse a length that is no whole float32', () => {
    expect(decodeEmbeddingBase64('AACAPwAAAMA=')).toEqual([1, -2]);
    expect(decodeEmbeddingBase64('AACA')).toBeUndefined();
    expect(decodeEmbeddingBase64('!!!!')).toBeUndefined();
    expect(decodeEmbeddingBase64('')).toEqual([]);
  });
});
