import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { isLlmError, LlmError } from '../errors/llm-error';
import { errorFromTransportFailure, errorFromUpstreamResponse } from '../errors/upstream-error.factory';
import { UpstreamProtocolError } from '../errors/upstream-errors';

/** What a streaming exchange hands its reader. */
export interface StreamSink {
  /** Bytes of a successful answer's body, in order. */
  data(chunk: Buffer): void;
  /** The body ended. */
  end(): void;
  /** The exchange failed: an error status, a transport failure, a cut body, or the abort reason. */
  fail(error: LlmError): void;
}

/** A complete (collected) answer. */
export interface CollectedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface ExchangeLimits {
  /** Largest success body collected (JSON answers); past it the exchange fails. */
  bodyBytes: number;
  /** Largest error body read to build the typed error. */
  errorBodyBytes: number;
}

export interface ExchangeParty {
  provider: string;
  /** Values (the provider key) that must never appear in an error message built from an upstream body. */
  secrets: readonly string[];
}

/**
 * One upstream exchange on undici's dispatch API: callbacks for the status, each body chunk and the
 * end, instead of a response `Readable`, its async iterator and an `AbortController` per request
 * (together a measurable share of a stream's CPU, docs/performance.md). An error status's body is
 * read (bounded) and turned into the typed error; a success body is either passed on chunk by chunk
 * (`sink`: streams) or collected (`collected`: JSON answers). `abort(reason)` ends it at any point;
 * the first reason is what the receiver gets. `pause()`/`resume()` stop and restart reading the
 * body (backpressure from a slow client).
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private reason: LlmError | undefined;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] | undefined;
  private size = 0;
  private settled = false;
  private pausedBeforeStart = false;

  private constructor(
    private readonly party: ExchangeParty,
    private readonly limits: ExchangeLimits,
    private readonly sink: StreamSink | undefined,
    private readonly collected: ((answer: CollectedAnswer) => void) | undefined,
    private readonly failed: (error: LlmError) => void,
  ) {}

  /** An exchange whose success body goes to `sink` as it arrives. */
  static streaming(party: ExchangeParty, limits: ExchangeLimits, sink: StreamSink): UpstreamExchange {
    return new UpstreamExchange(party, limits, sink, undefined, (error) => sink.fail(error));
  }

  /** An exchange whose whole body is collected; `done` or `fail` is called once. */
  static collecting(
    party: ExchangeParty,
    limits: ExchangeLimits,
    done: (answer: CollectedAnswer) => void,
    fail: (error: LlmError) => void,
  ): UpstreamExchange {
    return new UpstreamExchange(party, limits, undefined, done, fail);
  }

  /** True once the exchange delivered its end or its failure. */
  get finished(): boolean {
    return this.settled;
  }

  /** Why it was aborted, if it was. */
  get abortReason(): LlmError | undefined {
    return this.reason;
  }

  abort(reason: LlmError): void {
    if (this.settled || this.reason !== undefined) return;
    this.reason = reason;
    // Before undici started the request, it is aborted in onRequestStart.
    this.controller?.abort(reason);
  }

  pause(): void {
    if (this.controller) this.controller.pause();
    else this.pausedBeforeStart = true;
  }

  resume(): void {
    this.pausedBeforeStart = false;
    this.controller?.resume();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.reason !== undefined) controller.abort(this.reason);
    else if (this.pausedBeforeStart) controller.pause();
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    // undici reports informational answers (103 Early Hints) too: the real one follows.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
    if (statusCode >= 400 || this.sink === undefined) this.chunks = [];
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled || this.reason !== undefined) return;
    const chunks = this.chunks;
    if (chunks === undefined) {
      this.sink?.data(chunk);
      return;
    }
    this.size += chunk.length;
    const limit = this.status >= 400 ? this.limits.errorBodyBytes : this.limits.bodyBytes;
    if (this.size > limit) {
      const provider = this.party.provider;
      this.abort(new UpstreamProtocolError(`${provider} sent a body over ${limit} bytes`, provider));
      return;
    }
    chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    if (this.reason !== undefined) return this.fail(this.reason);
    this.settled = true;
    const chunks = this.chunks;
    if (chunks === undefined) {
      this.sink?.end();
      return;
    }
    const text =
      chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, this.size).toString('utf8');
    if (this.status >= 400) {
      const { provider, secrets } = this.party;
      this.failed(errorFromUpstreamResponse(provider, this.status, this.headers, text, secrets));
      return;
    }
    this.collected?.({ status: this.status, headers: this.headers, text });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.failWith(error);
  }

  /** undici refused the request before it started (a closed pool, invalid options). */
  dispatchFailed(error: Error): void {
    this.failWith(error);
  }

  private failWith(error: Error): void {
    if (this.settled) return;
    if (this.reason !== undefined) return this.fail(this.reason);
    if (isLlmError(error)) return this.fail(error);
    const provider = this.party.provider;
    if (this.status > 0 && this.status < 400 && this.sink !== undefined) {
      // The body broke after the headers: a reset or a cut connection mid-stream.
      this.fail(
        new UpstreamProtocolError(`${provider} stream broke: ${error.message}`, provider, { cause: error }),
      );
      return;
    }
    this.fail(errorFromTransportFailure(provider, error));
  }

  private fail(error: LlmError): void {
    if (this.settled) return;
    this.settled = true;
    this.failed(error);
  }
}
