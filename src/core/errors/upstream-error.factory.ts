import { LlmError } from './llm-error';
import {
  ModelCapabilityError,
  ProviderBusyError,
  UpstreamAuthError,
  UpstreamBadRequestError,
  UpstreamConnectionError,
  UpstreamError,
  UpstreamProtocolError,
  UpstreamRateLimitError,
  UpstreamServerError,
  UpstreamTimeoutError,
} from './upstream-errors';

type HeaderValue = string | string[] | undefined;

const MAX_MESSAGE_CHARS = 2000;

/**
 * Pulls a human message out of any upstream error body we have seen on the wire:
 * OpenAI/Groq `{"error":{"message"}}`, OpenRouter `{"error":{"message","code":429,"metadata":{"raw"}}}`,
 * Ollama `{"error":"..."}`. Falls back to the raw text (trimmed) or the status.
 */
export function upstreamErrorMessage(bodyText: string, status: number): string {
  let message: string | undefined;
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (parsed && typeof parsed === 'object') {
      const error = (parsed as { error?: unknown }).error;
      if (typeof error === 'string') message = error;
      else if (error && typeof error === 'object') {
        const m = (error as { message?: unknown }).message;
        if (typeof m === 'string') message = m;
        const raw = (error as { metadata?: { raw?: unknown } }).metadata?.raw;
        // OpenRouter wraps the real provider error as "Provider returned error" + metadata.raw.
        if (typeof raw === 'string' && raw.length > 0 && message === 'Provider returned error') {
          message = `${message}: ${raw}`;
        }
      } else {
        const m = (parsed as { message?: unknown }).message;
        if (typeof m === 'string') message = m;
      }
    }
  } catch {
    // not JSON: use the text below
  }
  if (message === undefined) message = bodyText.trim() || `HTTP ${status}`;
  return message.length > MAX_MESSAGE_CHARS ? message.slice(0, MAX_MESSAGE_CHARS) + '…' : message;
}

function firstHeader(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: HeaderValue, now = Date.now()): number | undefined {
  const raw = firstHeader(value)?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.ceil(Number(raw));
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** The one place an upstream HTTP error response becomes a typed error. */
export function errorFromUpstreamResponse(
  provider: string,
  status: number,
  headers: Record<string, HeaderValue>,
  bodyText: string,
): UpstreamError {
  const message = upstreamErrorMessage(bodyText, status);
  let error: UpstreamError;
  if (status === 429) {
    error = new UpstreamRateLimitError(message, provider);
    error.retryAfterSeconds = parseRetryAfter(headers['retry-after']);
  } else if (status === 401 || status === 403) {
    error = new UpstreamAuthError(`${provider} rejected the gateway's API key (HTTP ${status})`, provider);
  } else if (status === 503 && provider === 'ollama' && /server busy/i.test(message)) {
    error = new ProviderBusyError(message, provider);
    error.retryAfterSeconds = parseRetryAfter(headers['retry-after']);
  } else if (status >= 500) {
    error = new UpstreamServerError(message, provider);
    error.retryAfterSeconds = parseRetryAfter(headers['retry-after']);
  } else if (status === 408) {
    error = new UpstreamTimeoutError(message, provider);
  } else if (status === 400 && /does not support/i.test(message)) {
    error = new ModelCapabilityError(message, provider);
  } else if (status >= 400) {
    error = new UpstreamBadRequestError(message, provider, status);
    const code = upstreamErrorCode(bodyText);
    if (code) error.code = code;
  } else {
    error = new UpstreamProtocolError(`Unexpected upstream status ${status}`, provider);
  }
  error.upstreamStatus = status;
  return error;
}

function upstreamErrorCode(bodyText: string): string | undefined {
  try {
    const code = (JSON.parse(bodyText) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/** A transport failure (undici/socket error) as a typed error. */
export function errorFromTransportFailure(provider: string, err: unknown): LlmError {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return new UpstreamTimeoutError(`${provider} did not answer in time`, provider, { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new UpstreamConnectionError(`${provider} is unreachable: ${detail}`, provider, { cause: err });
}
