import { CancelSignal } from '../context/cancel-signal';
import { ClientAbortError } from '../errors/request-errors';
import { ProviderSaturatedError } from '../errors/routing-errors';

/** A provider's concurrency limit: at most `maxConcurrent` calls, then a bounded, timed queue. */
export interface ConcurrencyLimits {
  maxConcurrent: number;
  /** Calls that may wait for a slot; one more is refused at once. 0: no queue. */
  queueSize: number;
  /** How long a queued call waits for a slot before it is refused. */
  queueTimeoutMs: number;
}

/** Gives the slot back; calling it more than once has no effect. */
export type ReleaseSlot = () => void;

interface Waiter {
  grant(release: ReleaseSlot): void;
  refuse(error: Error): void;
}

/**
 * Caps the calls in flight to one provider (a local Ollama serves a few requests at a time and
 * queues the rest itself). Calls past the cap wait, first come first served, in a bounded queue
 * with a timeout; a full queue or a wait past the timeout is a `ProviderSaturatedError`, which is
 * retryable but no breaker failure, so an alias moves on to its next entry instead of piling onto
 * a saturated provider. A released slot goes straight to the next waiter.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly provider: string,
    readonly limits: ConcurrencyLimits,
  ) {}

  /** Calls holding a slot. */
  get inFlight(): number {
    return this.active;
  }

  /** Calls waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Resolves with the slot's release once one is free. Rejects with `ProviderSaturatedError` when
   * the queue is full or the wait times out, and with `ClientAbortError` when `signal` aborts first.
   */
  acquire(signal?: CancelSignal): Promise<ReleaseSlot> {
    if (signal?.aborted) return Promise.reject(new ClientAbortError());
    if (this.active < this.limits.maxConcurrent && this.queue.length === 0) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.limits.queueSize) {
      return Promise.reject(this.saturated(`its queue of ${this.limits.queueSize} is full`));
    }
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
      };
      const waiter: Waiter = {
        grant: (release) => {
          leave();
          resolve(release);
        },
        refuse: (error) => {
          leave();
          reject(error);
        },
      };
      const onAbort = () => waiter.refuse(new ClientAbortError());
      const timer = setTimeout(
        () => waiter.refuse(this.saturated(`no slot came free within ${this.limits.queueTimeoutMs} ms`)),
        this.limits.queueTimeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue[0];
      // The slot passes on without ever being free: a new caller cannot overtake the queue.
      if (next) next.grant(this.releaser());
      else this.active--;
    };
  }

  private saturated(why: string): ProviderSaturatedError {
    return new ProviderSaturatedError(
      `${this.provider} is saturated: ${this.limits.maxConcurrent} requests in flight and ${why}`,
      this.provider,
      Math.max(1, Math.ceil(this.limits.queueTimeoutMs / 1000)),
    );
  }
}
