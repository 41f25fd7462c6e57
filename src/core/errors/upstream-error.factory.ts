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

interface UpstreamErrorDetails {
  message: string;
  code: string | undefined;
  param: string | undefined;
}

/**
 * Reads any upstream error body we have seen on the wire: OpenAI/Groq `{"error":{"message","code","param"}}`,
 * OpenRouter `{"error":{"message","code":429,"metadata":{"raw"}}}` (numeric code: not passed on),
 * Ollama `{"error":"..."}`. Falls back to the raw text (trimmed) or the status.
 */
function readErrorBody(bodyText: string, status: number): UpstreamErrorDetails {
  let message: string | undefined;
  let code: string | undefined;
  let param: string | undefined;
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (parsed && typeof parsed === 'object') {
      const error = (parsed as { error?: unknown }).error;
      if (typeof error === 'string') message = error;
      else if (error && typeof error === 'object') {
        const e = error as {
          message?: unknown;
          code?: unknown;
          param?: unknown;
          metadata?: { raw?: unknown };
        };
        if (typeof e.message === 'string') message = e.message;
        if (typeof e.code === 'string') code = e.code;
        if (typeof e.param === 'string') param = e.param;
        const raw = e.metadata?.raw;
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
  if (message.length > MAX_MESSAGE_CHARS) message = message.slice(0, MAX_MESSAGE_CHARS) + '…';
  return { message, code, param };
}

/** The human message of an upstream error body (see `readErrorBody` for the shapes). */
export function upstreamErrorMessage(bodyText: string, status: number): string {
  return readErrorBody(bodyText, status).message;
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

/** Replaces every occurrence of a secret (the provider key an upstream may echo) in `text`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

/**
 * The one place an upstream HTTP error response becomes a typed error. `secrets` (the provider's
 * key) never reach the message, whatever the upstream echoes.
 */
export function errorFromUpstreamResponse(
  provider: string,
  status: number,
  headers: Record<string, HeaderValue>,
  bodyText: string,
  secrets: readonly string[] = [],
): UpstreamError {
  const details = readErrorBody(bodyText, status);
  const message = scrubSecrets(details.message, secrets);
  let error: UpstreamError;
  if (status === 429) {
    error = new UpstreamRateLimitError(message, provider);
    error.retryAfterSeconds = parseRetryAfter(headers['retry-after']);
    if (details.code) error.code = details.code; // rate_limit_exceeded, insufficient_quota
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
  } else if (status === 400 && provider === 'ollama' && /does not support/i.test(message)) {
    // Ollama's "<model> does not support tools|thinking|insert": a capability error, not the caller's typo.
    error = new ModelCapabilityError(message, provider);
  } else if (status >= 400) {
    error = new UpstreamBadRequestError(message, provider, status);
    if (details.code) error.code = details.code;
    if (details.param) error.param = details.param;
  } else {
    error = new UpstreamProtocolError(`Unexpected upstream status ${status}`, provider);
  }
  error.upstreamStatus = status;
  return error;
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
