import { LlmError } from '../errors/llm-error';

/** Why a chain entry was skipped before any call. */
export const SKIP_REASONS = ['unconfigured', 'cache-unhealthy'] as const;

/**
 * The retryable error classes of `core/errors`: their class names are the reasons of failed entries.
 * Together with SKIP_REASONS this is the closed set used in `error.attempts[].reason` and in the
 * `reason` label of `mana_llm_fallback_total`.
 */
export const RETRYABLE_ERROR_REASONS = [
  'UpstreamTimeoutError',
  'UpstreamConnectionError',
  'UpstreamServerError',
  'UpstreamRateLimitError',
  'UpstreamProtocolError',
  'UpstreamStreamError',
  'ProviderBusyError',
  'ProviderSaturatedError',
] as const;

export type FallbackReason = (typeof SKIP_REASONS)[number] | (typeof RETRYABLE_ERROR_REASONS)[number];

const KNOWN: ReadonlySet<string> = new Set<string>(RETRYABLE_ERROR_REASONS);

/**
 * The reason of a retryable error: its class name, or the nearest ancestor's when a subclass was
 * added elsewhere (names, not `instanceof`: a host app may load two copies of the package). A
 * retryable class outside the hierarchy counts as an upstream server failure, so labels stay bounded.
 */
export function fallbackReason(error: LlmError): FallbackReason {
  for (let proto: unknown = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && KNOWN.has(name)) return name as FallbackReason;
  }
  return 'UpstreamServerError';
}
