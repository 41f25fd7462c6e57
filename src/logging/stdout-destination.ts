import { register } from 'on-exit-leak-free';
import type { DestinationStream } from 'pino';
import SonicBoom, { SonicBoomOpts } from 'sonic-boom';

/** Log lines held while stdout does not take them; past this, new lines are dropped (counted). */
const MAX_BUFFERED_CHARS = 16 * 1024 * 1024;
/**
 * Tries of a write stdout answers with EAGAIN (its reader stalls), 100 ms apart, before the write
 * reports an error. Bounds the exit's last flush to ~5 s; a running gateway just tries again later.
 */
const MAX_WRITE_RETRIES = 50;

export interface StdoutDestinationOptions {
  /** The file descriptor (1 for stdout; tests use their own). */
  fd: number;
  /** Called once when the reader of the descriptor is gone (EPIPE): nothing more is written. */
  onBroken?: (err: Error) => void;
}

/**
 * Asynchronous log writes to stdout that can neither knock the process over nor keep it from
 * exiting. pino's own `pino.destination()` (sonic-boom 4) retries a write that fails with EPIPE
 * forever in the synchronous flush it runs at exit: a gateway whose stdout reader died and then
 * got SIGTERM never exited (reproduced in test/e2e/log-stdout.e2e-spec.ts). Here, on sonic-boom 5:
 * - the reader gone (EPIPE or any other write error but EAGAIN): logging stops, once, silently;
 * - the reader stalled (EAGAIN): lines wait in memory up to 16 MiB, later ones are dropped, and
 *   writing resumes when the reader does;
 * - at exit the held lines are flushed synchronously, giving up on a reader stalled for ~5 s.
 */
export class StdoutDestination implements DestinationStream {
  private readonly boom: SonicBoom;
  private broken = false;
  private dropped = 0;

  constructor(private readonly options: StdoutDestinationOptions) {
    const opts: SonicBoomOpts & { maxWriteRetries: number } = {
      fd: options.fd,
      sync: false,
      maxLength: MAX_BUFFERED_CHARS,
      maxWriteRetries: MAX_WRITE_RETRIES,
    };
    this.boom = new SonicBoom(opts);
    this.boom.on('error', (err: Error & { code?: string }) => {
      // A stalled reader (retries spent): the lines stay held and the next write tries again.
      if (err.code === 'EAGAIN' || err.code === 'EBUSY') return;
      this.break(err);
    });
    this.boom.on('drop', () => this.dropped++);
    // Weakly held: a destination that is collected (tests create many) is not kept for the exit.
    register(this, (destination: StdoutDestination) => destination.flushSync());
  }

  /** Lines dropped because stdout did not take them (its reader stalled with 16 MiB held). */
  get droppedLines(): number {
    return this.dropped;
  }

  get isBroken(): boolean {
    return this.broken;
  }

  write(line: string): void {
    if (!this.broken) this.boom.write(line);
  }

  /** pino's `logger.flush(cb)`: writes what is held, asynchronously. */
  flush(cb?: (err?: Error) => void): void {
    if (this.broken) return cb?.();
    this.boom.flush(cb);
  }

  /** Writes what is held before the process exits; gives up on a reader that is gone or stalled. */
  flushSync(): void {
    if (this.broken) return;
    try {
      this.boom.flushSync();
    } catch (err) {
      this.break(err as Error);
    }
  }

  private break(err: Error): void {
    if (this.broken) return;
    this.broken = true;
    this.options.onBroken?.(err);
  }
}
