/**
 * `encoding_format: "base64"` as OpenAI defines it and its SDKs decode it: the vector as little-endian
 * float32 values, base64-encoded. Values are rounded to float32, exactly as OpenAI does.
 */
export function encodeEmbeddingBase64(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i], i * 4);
  return bytes.toString('base64');
}

/** The inverse of `encodeEmbeddingBase64`; undefined when the text is not a whole number of float32s. */
export function decodeEmbeddingBase64(text: string): number[] | undefined {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0 || (bytes.length === 0 && text.length > 0)) return undefined;
  const vector: number[] = new Array(bytes.length / 4);
  for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4);
  return vector;
}
