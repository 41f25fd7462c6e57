import { InvalidRequestError } from '../errors/request-errors';

/** Small, allocation-free checks shared by the request validators. Each throws a 400 naming `param`. */

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function fail(param: string, message: string): never {
  throw new InvalidRequestError(message, param);
}

export function optionalNumber(
  body: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  integer = false,
): void {
  const value = body[key];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(key, `'${key}' must be a number`);
  if (integer && !Number.isInteger(value)) fail(key, `'${key}' must be an integer`);
  if (value < min || value > max) fail(key, `'${key}' must be between ${min} and ${max}`);
}

export function optionalBoolean(body: Record<string, unknown>, key: string): void {
  const value = body[key];
  if (value !== undefined && value !== null && typeof value !== 'boolean') {
    fail(key, `'${key}' must be a boolean`);
  }
}

export function optionalString(
  body: Record<string, unknown>,
  key: string,
  param = key,
  maxLength = 65536,
): void {
  const value = body[key];
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') fail(param, `'${param}' must be a string`);
  if (value.length > maxLength) fail(param, `'${param}' must be at most ${maxLength} characters`);
}

const MODEL_MAX_LENGTH = 256;

/**
 * A model id: printable ASCII, no whitespace or control characters, bounded. Anything else could never
 * name a real model and must not reach an upstream URL or a metric label.
 */
export function checkModelId(value: unknown, param = 'model'): string {
  if (typeof value !== 'string') fail(param, `'${param}' must be a string`);
  if (value.length === 0) fail(param, `'${param}' must not be empty`);
  if (value.length > MODEL_MAX_LENGTH)
    fail(param, `'${param}' must be at most ${MODEL_MAX_LENGTH} characters`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // Printable ASCII only: model names are ASCII everywhere (Ollama, Hugging Face, the clouds), and a
    // non-ASCII id would reach the `X-Mana-LLM-Resolved` header, where Node refuses it (a 500 after
    // the upstream was paid).
    if (c <= 0x20 || c >= 0x7f || c === 0x3f /* ? */ || c === 0x23 /* # */ || c === 0x5c /* \ */) {
      fail(param, `'${param}' contains a character that is not allowed in a model id`);
    }
  }
  if (value.includes('..')) fail(param, `'${param}' must not contain '..'`);
  return value;
}

/**
 * Deepest nesting of arrays and objects accepted in a request body (the body itself is level 1).
 * Real requests stay far below it (a JSON schema in `tools` or `response_format` nests a few dozen
 * levels at most); far deeper bodies would overflow the stack of `JSON.stringify` when forwarded.
 */
export const MAX_JSON_DEPTH = 100;

/**
 * Whether `value` nests arrays and objects more than `maxDepth` levels deep (a scalar is 0 levels,
 * `[]` and `{}` one). The walk stops at the limit, so its own stack stays bounded.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (maxDepth <= 0) return true;
  // Scalars are skipped without a call (most values of a chunk are): this runs on every streamed event.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === 'object' && nestsDeeperThan(item, maxDepth - 1)) return true;
    }
    return false;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    const item = object[key];
    if (item !== null && typeof item === 'object' && nestsDeeperThan(item, maxDepth - 1)) return true;
  }
  return false;
}

/** A 400 naming the top-level field that nests deeper than MAX_JSON_DEPTH levels, if any. */
export function checkNesting(body: Record<string, unknown>): void {
  for (const key in body) {
    if (nestsDeeperThan(body[key], MAX_JSON_DEPTH - 1)) {
      fail(key, `'${key}' is nested more than ${MAX_JSON_DEPTH} levels deep`);
    }
  }
}
