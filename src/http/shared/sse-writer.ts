import type { ServerResponse } from 'node:http';
import { ChatCompletionChunk } from '../../core/openai/chat-completion.types';
import { wireJson } from '../../core/openai/wire-json';
import { StreamFlow } from '../../core/streaming/stream-flow';
import { toErrorResponse } from './error-response';

/** Past this many characters a batch is written without waiting for the end of the loop turn. */
const MAX_BATCH_CHARS = 16 * 1024;

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/**
 * Writes one OpenAI SSE stream. Headers are deferred to the first chunk (so a chain that fails before
 * it still gets a real JSON error status) unless `keepAliveMs` of silence pass first: then headers go
 * out and `: keep-alive` comments follow until data flows. Events arriving in one turn of the event
 * loop (every upstream read of that turn) are batched into one write, flushed in the loop's check
 * phase (`setImmediate`); a full socket buffer pauses the producer through `flow`.
 */
export class SseWriter {
  readonly flow = new StreamFlow();
  private buffer = '';
  private flushScheduled = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private sawChunk = false;
  private ended = false;
  private readonly onDrain = () => this.flow.resume();
  private readonly flushNow = () => this.flush();

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string>,
    private readonly keepAliveMs: number,
  ) {
    this.keepAlive = setTimeout(() => this.sendKeepAlive(), keepAliveMs);
  }

  get committed(): boolean {
    return this.res.headersSent;
  }

  chunk(chunk: ChatCompletionChunk): void {
    if (this.ended) return;
    if (!this.sawChunk) {
      this.sawChunk = true;
      this.stopKeepAlive();
      if (!this.res.headersSent) {
        this.res.writeHead(200, { ...SSE_HEADERS, ...this.headers, 'x-mana-llm-resolved': chunk.model });
      }
    }
    this.buffer += 'data: ' + wireJson(chunk) + '\n\n';
    // A large batch goes out at once: its write tells at once whether the client keeps up (the
    // producer pauses before it reads more), so what waits here stays bounded.
    if (this.buffer.length >= MAX_BATCH_CHARS) {
      this.flush();
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Not a microtask: that would write once per upstream read; reads that land in the same poll
      // phase share one write (one syscall) this way (docs/performance.md).
      setImmediate(this.flushNow);
    }
  }

  done(): void {
    if (this.ended) return;
    if (!this.res.headersSent) this.res.writeHead(200, { ...SSE_HEADERS, ...this.headers });
    this.buffer += 'data: [DONE]\n\n';
    this.finish();
  }

  /** Before commit: a JSON error with its status. After: an SSE error frame, then the end (no [DONE]). */
  error(err: unknown, requestId?: string): void {
    if (this.ended) return;
    const { status, body, headers } = toErrorResponse(err, requestId);
    if (!this.res.headersSent) {
      this.stopKeepAlive();
      this.ended = true;
      const payload = JSON.stringify(body);
      this.res.writeHead(status, {
        ...this.headers,
        ...headers,
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(payload),
      });
      this.res.end(payload);
      return;
    }
    this.buffer += 'data: ' + JSON.stringify(body) + '\n\n';
    this.finish();
  }

  /** The client left: stop timers, write nothing more. */
  abandon(): void {
    this.ended = true;
    this.stopKeepAlive();
    this.res.off('drain', this.onDrain);
    this.flow.resume();
  }

  private finish(): void {
    this.ended = true;
    this.stopKeepAlive();
    this.res.off('drain', this.onDrain);
    this.flow.resume();
    // The last events and the end in one write (one syscall, not two).
    const rest = this.buffer;
    this.buffer = '';
    if (rest.length > 0 && !this.res.writableEnded && !this.res.destroyed) this.res.end(rest);
    else this.res.end();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.buffer.length === 0 || this.res.writableEnded || this.res.destroyed) {
      this.buffer = '';
      return;
    }
    const ok = this.res.write(this.buffer);
    this.buffer = '';
    if (!ok && !this.ended && !this.flow.paused) {
      this.flow.pause();
      this.res.once('drain', this.onDrain);
    }
  }

  private sendKeepAlive(): void {
    if (this.ended || this.sawChunk) return;
    if (!this.res.headersSent) this.res.writeHead(200, { ...SSE_HEADERS, ...this.headers });
    this.res.write(': keep-alive\n\n');
    this.keepAlive = setTimeout(() => this.sendKeepAlive(), this.keepAliveMs);
  }

  private stopKeepAlive(): void {
    if (this.keepAlive) clearTimeout(this.keepAlive);
    this.keepAlive = undefined;
  }
}
