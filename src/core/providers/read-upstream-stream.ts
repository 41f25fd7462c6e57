import { Observable } from 'rxjs';
import { isLlmError } from '../errors/llm-error';
import { ClientAbortError } from '../errors/request-errors';
import { UpstreamProtocolError, UpstreamTimeoutError } from '../errors/upstream-errors';
import { ChatCompletionChunk } from '../openai/chat-completion.types';
import { StreamFlow } from '../streaming/stream-flow';
import { StreamCancel, UpstreamHttp, UpstreamStream } from './upstream-http';

/** Turns upstream body bytes into our chunks; throws a typed error on an upstream error event. */
export interface ChunkDecoder {
  /**
   * Appends the chunks decoded from `bytes` to `out`. On an upstream error event it throws, after
   * appending the chunks that came before the event (in the same read), so they are not lost.
   */
  push(bytes: Buffer, out: ChatCompletionChunk[]): void;
  /** Called once the body ended: appends the last chunks, or throws if the stream was truncated. */
  end(out: ChatCompletionChunk[]): void;
}

export interface ReadStreamOptions {
  http: UpstreamHttp;
  path: string;
  body: string;
  timeoutMs: number;
  decoder: ChunkDecoder;
  flow?: StreamFlow;
}

/**
 * The one streaming loop both adapters use: a cold Observable over an upstream body. It reads with
 * `for await` (one decode and one batch of `next` calls per read), pauses reads while the consumer's
 * flow is paused, enforces the timeout to the first chunk (counted from the request, not from the
 * response headers) and between chunks (comments and keep-alives do not count as chunks; time spent
 * paused by a slow client does not count either), and aborts the upstream request on unsubscribe.
 */
export function readUpstreamStream(options: ReadStreamOptions): Observable<ChatCompletionChunk> {
  const { http, timeoutMs, decoder, flow } = options;
  return new Observable<ChatCompletionChunk>((subscriber) => {
    const cancel = new StreamCancel();
    let upstream: UpstreamStream | undefined;
    let watchdog: NodeJS.Timeout | undefined;
    /** The body was read to its end: the teardown has nothing to abort. */
    let drained = false;

    const onIdle = () =>
      cancel.abort(
        new UpstreamTimeoutError(`${http.provider} sent no chunk for ${timeoutMs} ms`, http.provider),
      );
    // One timer per stream, pushed back on every chunk (`refresh()`, no new timer per read).
    const arm = () => {
      if (watchdog) watchdog.refresh();
      else watchdog = setTimeout(onIdle, timeoutMs);
    };
    const disarm = () => {
      clearTimeout(watchdog);
      watchdog = undefined;
    };
    const emit = (chunks: ChatCompletionChunk[]) => {
      for (let i = 0; i < chunks.length && !subscriber.closed; i++) subscriber.next(chunks[i]);
    };

    const run = async () => {
      arm();
      upstream = await http.stream({ path: options.path, body: options.body, timeoutMs, cancel });
      for await (const bytes of upstream.body as AsyncIterable<Buffer>) {
        const out: ChatCompletionChunk[] = [];
        let failure: unknown;
        try {
          decoder.push(bytes, out);
        } catch (err) {
          failure = err;
        }
        if (out.length > 0) {
          arm();
          emit(out);
        }
        if (failure !== undefined) throw failure;
        if (subscriber.closed) return;
        const paused = flow?.ready();
        if (paused) {
          // A slow reader is no upstream stall: the idle clock stops while the client catches up.
          disarm();
          await paused;
          if (subscriber.closed) return;
          arm();
        }
      }
      const out: ChatCompletionChunk[] = [];
      let failure: unknown;
      try {
        decoder.end(out);
      } catch (err) {
        failure = err;
      }
      drained = true;
      disarm();
      emit(out);
      if (failure !== undefined) throw failure;
      subscriber.complete();
    };

    run().catch((err: unknown) => {
      disarm();
      if (subscriber.closed) return;
      const reason = cancel.reason;
      if (reason) subscriber.error(reason);
      else if (isLlmError(err)) subscriber.error(err);
      else if (upstream) {
        // The body broke after the headers: a reset or a cut connection mid-stream.
        subscriber.error(
          new UpstreamProtocolError(
            `${http.provider} stream broke: ${(err as Error)?.message ?? err}`,
            http.provider,
            { cause: err },
          ),
        );
      } else subscriber.error(http.asTyped(err));
    });

    return () => {
      disarm();
      // A finished exchange is not aborted: two ClientAbortErrors (stack traces) and an abort event
      // per stream cost 4-6 % of a stream's CPU for nothing (bench/profile.js).
      if (drained || cancel.reason) return;
      cancel.abort(new ClientAbortError());
    };
  });
}
