import { isLlmError } from '../errors/llm-error';
import { FallbackAttempt } from '../errors/routing-errors';
import { isProviderName } from '../providers/provider-adapter';
import { CacheResult, FinishedRequest } from './llm-metrics';

/** What a service adds to `requestFinished` for the request's log line. */
export type RequestDetails = Pick<
  FinishedRequest,
  'requestId' | 'requestedModel' | 'promptTokens' | 'completionTokens' | 'cache' | 'attempts' | 'error'
>;

/**
 * The provider of a failed request's label: the provider whose upstream failed (a direct model's
 * 502/504/4xx), `none` when none was involved (validation, an exhausted alias chain). Bounded: only
 * known provider names pass.
 */
export function failedProvider(err: unknown): string {
  return isLlmError(err) && err.provider !== undefined && isProviderName(err.provider)
    ? err.provider
    : 'none';
}

/** The class name of a failure, for the log line (never its message: upstream messages quote keys). */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'NonError';
}

/** The chain entries an exhausted chain tried (`AllProvidersFailedError.attempts`). */
export function failedAttempts(err: unknown): readonly FallbackAttempt[] | undefined {
  const attempts = isLlmError(err) ? (err as { attempts?: unknown }).attempts : undefined;
  return Array.isArray(attempts) ? (attempts as FallbackAttempt[]) : undefined;
}

/** `X-Mana-LLM-Cache` (`HIT`, ...) as the log's cache result; undefined when no cache is configured. */
export function cacheResultOf(status: string | undefined): CacheResult | undefined {
  return status === 'HIT' ? 'hit' : status === 'MISS' ? 'miss' : status === 'BYPASS' ? 'bypass' : undefined;
}
