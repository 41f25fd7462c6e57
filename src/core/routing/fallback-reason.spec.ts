import * as errors from '../errors';
import { LlmError } from '../errors/llm-error';
import { fallbackReason, RETRYABLE_ERROR_REASONS } from './fallback-reason';

type AnyErrorClass = new (...args: unknown[]) => LlmError;

/** Every concrete LlmError class exported by core/errors, instantiated with plausible arguments. */
function exportedErrors(): LlmError[] {
  const out: LlmError[] = [];
  for (const value of Object.values(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof LlmError)) continue;
    const Cls = value as unknown as AnyErrorClass;
    if (Cls.name === 'UpstreamError') continue; // abstract
    try {
      out.push(new Cls('message', 'groq', 400));
    } catch {
      out.push(new Cls('model', [])); // AllProvidersFailedError(requestedModel, attempts)
    }
  }
  return out;
}

describe(fallbackReason.name, () => {
  it('should name every retryable error class of core/errors by its own class name', () => {
    const retryable = exportedErrors().filter((e) => e.retryable);
    expect(retryable.map((e) => e.name).sort()).toEqual([...RETRYABLE_ERROR_REASONS].sort());
    for (const error of retryable) expect(fallbackReason(error)).toBe(error.name);
  });

  it('should fall back to UpstreamServerError when a retryable class has no known ancestor', () => {
    class Foreign extends LlmError {
      readonly status = 502;
      readonly type = 'upstream_error';
      readonly retryable = true;
    }
    expect(fallbackReason(new Foreign('x'))).toBe('UpstreamServerError');
  });
});
