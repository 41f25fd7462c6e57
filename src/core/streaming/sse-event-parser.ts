import { StringDecoder } from 'node:string_decoder';

/** One server-sent event: `event` is undefined for the default `message` type. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * Incremental SSE parser (WHATWG EventSource rules): LF, CRLF and CR line ends, events split across
 * reads, multi-byte characters split across reads, `:` comment lines dropped, multi-line `data` joined
 * with `\n`. `push` returns the events completed by this read (often several: one array per read keeps
 * writes batched downstream).
 */
export class SseEventParser {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  private data: string[] = [];
  private eventName: string | undefined;
  private pendingCR = false;
  private started = false;

  push(chunk: Buffer | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    // An empty read (or one holding only part of a multi-byte character) changes nothing.
    if (text.length === 0) return [];
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 BOM is not data
    }
    // A CR at the end of the previous read may be the first half of a CRLF.
    if (this.pendingCR) {
      this.pendingCR = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1);
    }
    const events: SseEvent[] = [];
    const buffer = this.buffer + text;
    let start = 0;
    // Cached positions: each search runs once per line end, never re-scanning the whole read.
    let lf = buffer.indexOf('\n');
    let cr = buffer.indexOf('\r');
    for (;;) {
      if (lf !== -1 && lf < start) lf = buffer.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = buffer.indexOf('\r', start);
      let lineEnd: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        lineEnd = cr;
        if (cr + 1 === buffer.length) {
          this.pendingCR = true;
          next = cr + 1;
        } else {
          next = buffer.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
        }
      } else if (lf !== -1) {
        lineEnd = lf;
        next = lf + 1;
      } else {
        break;
      }
      this.line(buffer.slice(start, lineEnd), events);
      start = next;
    }
    this.buffer = start === 0 ? buffer : buffer.slice(start);
    return events;
  }

  /** Whether bytes of an unfinished event are still held (a truncated stream). */
  get hasPartialEvent(): boolean {
    return this.buffer.length > 0 || this.data.length > 0;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line.length === 0) {
      if (this.data.length > 0) {
        const data = this.data.length === 1 ? this.data[0] : this.data.join('\n');
        // WHATWG: an event whose data buffer is empty is not dispatched.
        if (data.length > 0) events.push({ event: this.eventName, data });
      }
      this.data = [];
      this.eventName = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.eventName = value;
    // `id` and `retry` carry nothing a completion stream needs.
  }
}
