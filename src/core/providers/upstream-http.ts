import { Dispatcher, Pool } from 'undici';
import { isLlmError, LlmError } from '../errors/llm-error';
import { ClientAbortError } from '../errors/request-errors';
import { UpstreamProtocolError, UpstreamTimeoutError } from '../errors/upstream-errors';
import { errorFromTransportFailure, errorFromUpstreamResponse } from '../errors/upstream-error.factory';

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

export interface UpstreamCall {
  method: 'GET' | 'POST';
  /** Appended to the base URL's path (`/chat/completions`, `/api/chat`). */
  path: string;
  body?: string;
  /** The caller's cancellation (client gone). */
  signal?: AbortSignal;
  timeoutMs: number;
}

export interface UpstreamJsonResponse {
  status: number;
  headers: UpstreamHeaders;
  text: string;
}

export interface UpstreamStream {
  status: number;
  headers: UpstreamHeaders;
  body: Dispatcher.ResponseData['body'];
}

/**
 * The cancellation of one streaming exchange, owned by its reader: the reader watches the time (to
 * the first chunk and between chunks) and ends the exchange through `abort` when a client leaves or
 * an upstream stalls; the first typed reason is kept. One controller per stream, and no deadline
 * timer of its own (the reader's watchdog is it).
 */
export class StreamCancel {
  private readonly controller = new AbortController();
  private why: LlmError | undefined;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the stream was aborted, if it was. */
  get reason(): LlmError | undefined {
    return this.why;
  }

  abort(why: LlmError): void {
    if (this.why !== undefined) return;
    this.why = why;
    this.controller.abort(why);
  }
}

export interface UpstreamStreamCall {
  path: string;
  body: string;
  /** For the response headers (undici's `headersTimeout`). */
  timeoutMs: number;
  cancel: StreamCancel;
}

/** Bounded: a runaway upstream cannot make the gateway buffer without limit. */
const MAX_JSON_BODY_BYTES = 50 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 1024 * 1024;

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
 * One keep-alive undici `Pool` per provider origin. `Pool.request` costs a fifth of the CPU of
 * `fetch` here (../shared/PERF.md). Turns transport failures and upstream error statuses into typed
 * errors, so adapters only see success bodies.
 */
export class UpstreamHttp {
  readonly provider: string;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly secrets: string[];

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

  /** A complete JSON exchange: the whole call, body included, within `timeoutMs`. */
  async json(call: UpstreamCall): Promise<UpstreamJsonResponse> {
    const exchange = this.begin(call);
    try {
      const response = await this.pool.request({
        method: call.method,
        path: this.basePath + call.path,
        headers: this.headers,
        body: call.body,
        signal: exchange.signal,
        headersTimeout: call.timeoutMs,
        bodyTimeout: call.timeoutMs,
      });
      const limit = response.statusCode >= 400 ? MAX_ERROR_BODY_BYTES : MAX_JSON_BODY_BYTES;
      const text = await readText(response.body, limit, this.provider);
      if (response.statusCode >= 400) {
        throw errorFromUpstreamResponse(
          this.provider,
          response.statusCode,
          response.headers,
          text,
          this.secrets,
        );
      }
      return { status: response.statusCode, headers: response.headers, text };
    } catch (err) {
      throw exchange.reason ?? this.asTyped(err);
    } finally {
      exchange.settled();
      exchange.release();
    }
  }

  /**
   * Opens a streaming `POST`: resolves once the status is in; an error status is read (bounded) and
   * thrown as a typed error. The body's timing and the cancellation are the caller's (`call.cancel`).
   */
  async stream(call: UpstreamStreamCall): Promise<UpstreamStream> {
    const cancel = call.cancel;
    try {
      const response = await this.pool.request({
        method: 'POST',
        path: this.basePath + call.path,
        headers: this.headers,
        body: call.body,
        signal: cancel.signal,
        headersTimeout: call.timeoutMs,
        bodyTimeout: 0,
      });
      if (response.statusCode >= 400) {
        const text = await readText(response.body, MAX_ERROR_BODY_BYTES, this.provider);
        throw errorFromUpstreamResponse(
          this.provider,
          response.statusCode,
          response.headers,
          text,
          this.secrets,
        );
      }
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (err) {
      throw cancel.reason ?? this.asTyped(err);
    }
  }

  /**
   * The cancellation of one JSON exchange: a deadline for the whole answer (`timeoutMs`), the
   * caller's signal (a client gone), and the first typed reason that aborted it. `settled()` ends
   * the deadline; `release()` detaches from the caller's signal.
   */
  private begin(call: UpstreamCall) {
    const controller = new AbortController();
    let reason: LlmError | undefined;
    const abort = (why: LlmError) => {
      reason ??= why;
      controller.abort(why);
    };
    const timer = setTimeout(
      () =>
        abort(
          new UpstreamTimeoutError(
            `${this.provider} did not answer within ${call.timeoutMs} ms`,
            this.provider,
          ),
        ),
      call.timeoutMs,
    );
    const onCallerAbort = () => abort(new ClientAbortError());
    if (call.signal?.aborted) onCallerAbort();
    call.signal?.addEventListener('abort', onCallerAbort, { once: true });
    return {
      signal: controller.signal,
      abort,
      get reason() {
        return reason;
      },
      settled: () => clearTimeout(timer),
      release: () => call.signal?.removeEventListener('abort', onCallerAbort),
    };
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
}

/**
 * The whole body as text, at most `limit` bytes (past it the body is destroyed and the read fails).
 * Events rather than `for await`: an async iterator per answer was a measurable cost (bench/profile.js).
 */
function readText(body: Dispatcher.ResponseData['body'], limit: number, provider: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        body.destroy();
        reject(new UpstreamProtocolError(`${provider} sent a body over ${limit} bytes`, provider));
        return;
      }
      chunks.push(chunk);
    });
    body.on('end', () =>
      resolve(
        chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8'),
      ),
    );
    body.on('error', reject);
  });
}
