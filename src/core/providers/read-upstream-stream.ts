import { Observable } from 'rxjs';
import { isLlmError, LlmError } from '../errors/llm-error';
import { ClientAbortError } from '../errors/request-errors';
import { UpstreamProtocolError, UpstreamTimeoutError } from '../errors/upstream-errors';
import { ChatCompletionChunk } from '../openai/chat-completion.types';
import { StreamFlow } from '../streaming/stream-flow';
import { StreamSink, UpstreamHttp } from './upstream-http';

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
 * The one streaming reader both adapters use: a cold Observable over an upstream body. Each body
 * chunk undici hands over is decoded and its chunks are emitted in one batch of `next` calls; reading
 * pauses while the consumer's flow is paused; the timeout runs to the first chunk (counted from the
 * request, not from the response headers) and between chunks (comments and keep-alives do not count
 * as chunks; time spent paused by a slow client does not count either); unsubscribing aborts the
 * upstream request.
 */
export function readUpstreamStream(options: ReadStreamOptions): Observable<ChatCompletionChunk> {
  const { http, timeoutMs, decoder, flow } = options;
  return new Observable<ChatCompletionChunk>((subscriber) => {
    let watchdog: NodeJS.Timeout | undefined;
    /** The exchange delivered its end or failure: the teardown has nothing to abort. */
    let over = false;
    let paused = false;

    const onIdle = () =>
      upstream.abort(
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
    const typed = (err: unknown): LlmError =>
      isLlmError(err)
        ? err
        : new UpstreamProtocolError(
            `${http.provider} stream broke: ${(err as Error)?.message ?? err}`,
            http.provider,
            {
              cause: err,
            },
          );
    const onResume = () => {
      paused = false;
      if (over || subscriber.closed) return;
      arm();
      // resume() may hand over held bytes at once, and their batch may pause the flow again (which
      // disarms the clock): the clock is armed before, never after.
      upstream.resume();
    };

    const sink: StreamSink = {
      data(bytes) {
        // Bytes undici still hands over after an unsubscribe (its abort is under way): nobody reads.
        if (subscriber.closed) return;
        const out: ChatCompletionChunk[] = [];
        let failure: unknown;
        try {
          decoder.push(bytes, out);
        } catch (err) {
          failure = err;
        }
        if (out.length > 0) {
          // Bytes undici still hands over after a pause do not restart the idle clock: it restarts
          // when the client caught up (onResume).
          if (!paused) arm();
          emit(out);
        }
        if (failure !== undefined) {
          // An upstream error event or an undecodable event: the chunks before it went out above.
          const error = typed(failure);
          upstream.abort(error);
          if (!subscriber.closed) subscriber.error(error);
          return;
        }
        const wait = paused || subscriber.closed ? undefined : flow?.ready();
        if (wait) {
          // A slow reader is no upstream stall: the idle clock stops while the client catches up.
          paused = true;
          disarm();
          upstream.pause();
          void wait.then(onResume);
        }
      },
      end() {
        over = true;
        disarm();
        const out: ChatCompletionChunk[] = [];
        let failure: unknown;
        try {
          decoder.end(out);
        } catch (err) {
          failure = err;
        }
        emit(out);
        if (subscriber.closed) return;
        if (failure !== undefined) subscriber.error(typed(failure));
        else subscriber.complete();
      },
      fail(error) {
        over = true;
        disarm();
        if (!subscriber.closed) subscriber.error(error);
      },
    };

    arm();
    const upstream = http.stream({ path: options.path, body: options.body, timeoutMs }, sink);

    return () => {
      disarm();
      // A finished exchange is not aborted: a ClientAbortError (a stack trace) and an abort per
      // stream cost 4-6 % of a stream's CPU for nothing (bench/profile.js).
      if (!over) upstream.abort(new ClientAbortError());
    };
  });
}
