/**
 * Backpressure between the reader of a stream (the SSE writer) and its producer (an adapter reading
 * the upstream body): the writer pauses when its socket buffer is full, the adapter awaits `ready()`
 * before its next upstream read. Without it a slow client would make the gateway buffer the whole answer.
 */
export class StreamFlow {
  private waiting: Promise<void> | undefined;
  private release: (() => void) | undefined;

  get paused(): boolean {
    return this.waiting !== undefined;
  }

  pause(): void {
    if (this.waiting) return;
    this.waiting = new Promise<void>((resolve) => (this.release = resolve));
  }

  resume(): void {
    const release = this.release;
    this.waiting = undefined;
    this.release = undefined;
    release?.();
  }

  /** Resolves at once when flowing; otherwise when `resume()` is called. */
  ready(): Promise<void> | undefined {
    return this.waiting;
  }
}
