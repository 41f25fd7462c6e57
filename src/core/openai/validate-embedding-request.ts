import { EmbeddingRequest } from './embedding.types';
import {
  checkModelId,
  checkNesting,
  fail,
  isPlainObject,
  optionalNumber,
  optionalString,
} from './request-checks';

const MAX_INPUTS = 2048;

/** Checks an embeddings request body (OpenAI contract), naming the bad field in `param`. */
export function validateEmbeddingRequest(body: unknown): EmbeddingRequest {
  if (!isPlainObject(body)) fail('body', 'The request body must be a JSON object');
  checkNesting(body);
  if (body.model === undefined || body.model === null) fail('model', "'model' is required");
  checkModelId(body.model);
  const input = body.input;
  if (input === undefined || input === null) fail('input', "'input' is required");
  if (Array.isArray(input)) {
    if (input.length === 0) fail('input', "'input' must not be empty");
    if (input.length > MAX_INPUTS) fail('input', `'input' must have at most ${MAX_INPUTS} entries`);
    for (let i = 0; i < input.length; i++) {
      if (typeof input[i] !== 'string') fail(`input[${i}]`, `'input[${i}]' must be a string`);
    }
  } else if (typeof input !== 'string') {
    fail('input', "'input' must be a string or an array of strings");
  }
  const format = body.encoding_format;
  if (format !== undefined && format !== null && format !== 'float' && format !== 'base64') {
    fail('encoding_format', "'encoding_format' must be 'float' or 'base64'");
  }
  optionalNumber(body, 'dimensions', 1, 65536, true);
  optionalString(body, 'user');
  return body as EmbeddingRequest;
}
