import { Pool } from 'undici';
import { CancelSignal } from '../context/cancel-signal';
import { isLlmError, LlmError } from '../errors/llm-error';
import { ClientAbortError } from '../errors/request-errors';
import { UpstreamTimeoutError } from '../errors/upstream-errors';
import { errorFromTransportFailure } from '../errors/upstream-error.factory';
import { ExchangeLimits, StreamSink, UpstreamExchange } from './upstream-exchange';

export type { StreamSink } from './upstream-exchange';

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

export interface UpstreamCall {
  method: 'GET' | 'POST';
  /** Appended to the base URL's path (`/chat/completions`, `/api/chat`). */
  path: string;
  body?: string;
  /** The caller's cancellation (client gone). */
  signal?: CancelSignal;
  timeoutMs: number;
}

export interface UpstreamJsonResponse {
  status: number;
  headers: UpstreamHeaders;
  text: string;
}

export interface UpstreamStreamCall {
  path: string;
  body: string;
  /** For the response headers (undici's `headersTimeout`); the body's timing is the reader's. */
  timeoutMs: number;
}

/** An open streaming exchange, as its reader controls it. */
export interface UpstreamStream {
  /** Ends the exchange at once (client gone, idle timeout); the sink's `fail` gets `reason`. */
  abort(reason: LlmError): void;
  /** Stops reading the body until `resume()` (a slow client). */
  pause(): void;
  resume(): void;
}

/** Bounded: a runaway upstream cannot make the gateway buffer without limit. */
const LIMITS: ExchangeLimits = { bodyBytes: 50 * 1024 * 1024, errorBodyBytes: 1024 * 1024 };

export interface UpstreamHttpOptions {
  provider: string;
  baseUrl: string;
  headers: Record<string, string>;
  /** Open connections at most (undici default: unlimited). */
  connections?: number;
  /** Values (the provider key) that must never appear in an error message built from an upstream body. */
  secrets?: string[];
}

/**
 * One keep-alive undici `Pool` per provider origin, driven through its dispatch API (no `fetch`,
 * which costs five times the CPU of undici's own API here, ../shared/PERF.md; no response
 * `Readable` either, see UpstreamExchange). Turns transport failures and upstream error statuses
 * into typed errors, so adapters only see success bodies.
 */
export class UpstreamHttp {
  readonly provider: string;
  readonly secrets: readonly string[];
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;

  constructor(options: UpstreamHttpOptions) {
    const url = new URL(options.baseUrl);
    this.provider = options.provider;
    this.secrets = options.secrets ?? [];
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.headers = { 'content-type': 'application/json', accept: 'application/json', ...options.headers };
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? null,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
    });
  }

  /**
   * A complete JSON exchange: the whole call, body included, within `timeoutMs` (one deadline
   * timer); the caller's `signal` aborts it with a ClientAbortError.
   */
  json(call: UpstreamCall): Promise<UpstreamJsonResponse> {
    return new Promise<UpstreamJsonResponse>((resolve, reject) => {
      const signal = call.signal;
      const onCallerAbort = () => exchange.abort(new ClientAbortError());
      const timer = setTimeout(
        () =>
          exchange.abort(
            new UpstreamTimeoutError(
              `${this.provider} did not answer within ${call.timeoutMs} ms`,
              this.provider,
            ),
          ),
        call.timeoutMs,
      );
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onCallerAbort);
      };
      const exchange = UpstreamExchange.collecting(
        this,
        LIMITS,
        (answer) => {
          settle();
          resolve(answer);
        },
        (error) => {
          settle();
          reject(error);
        },
      );
      if (signal?.aborted) onCallerAbort();
      else signal?.addEventListener('abort', onCallerAbort, { once: true });
      this.dispatch(call.method, call.path, call.body, call.timeoutMs, call.timeoutMs, exchange);
    });
  }

  /**
   * Opens a streaming `POST` whose success body goes to `sink` chunk by chunk; an error status is
   * read (bounded) and given to `sink.fail` as a typed error. The body's idle time is the caller's
   * to watch; it ends the exchange through the returned handle.
   */
  stream(call: UpstreamStreamCall, sink: StreamSink): UpstreamStream {
    const exchange = UpstreamExchange.streaming(this, LIMITS, sink);
    this.dispatch('POST', call.path, call.body, call.timeoutMs, 0, exchange);
    return exchange;
  }

  /** Maps a transport failure; typed errors pass through. */
  asTyped(err: unknown): LlmError {
    if (isLlmError(err)) return err;
    return errorFromTransportFailure(this.provider, err);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }

  private dispatch(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    headersTimeout: number,
    bodyTimeout: number,
    exchange: UpstreamExchange,
  ): void {
    try {
      this.pool.dispatch(
        { method, path: this.basePath + path, headers: this.headers, body, headersTimeout, bodyTimeout },
        exchange,
      );
    } catch (err) {
      // A closed pool or invalid options throw here instead of reaching the handler.
      exchange.dispatchFailed(err as Error);
    }
  }
}
