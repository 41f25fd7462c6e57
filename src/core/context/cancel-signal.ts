/**
 * The caller's cancellation as the core listens to it: the part of `AbortSignal` the core uses, so an
 * embedder passes its own `AbortSignal`, and the HTTP edge a plain object that costs nothing to make
 * (an `AbortController` costs about 2 µs to create and its listener another microsecond, per request
 * on this machine: docs/performance.md). Listeners run once, when the signal aborts.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A real `AbortSignal` that aborts with `signal`, for the APIs that need one (undici's `signal`). */
export function asAbortSignal(signal: CancelSignal): AbortSignal {
  if (signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', () => controller.abort(), { once: true });
  return controller.signal;
}

/**
 * A `CancelSignal` aborted by its owner: one array, made on the first listener. Like an
 * `AbortSignal`, a listener added after the abort never runs (callers check `aborted` first).
 */
export class CancelSource implements CancelSignal {
  private done = false;
  private listeners: (() => void)[] | undefined;

  get aborted(): boolean {
    return this.done;
  }

  /** Listeners run once whether or not `once` is given: the source aborts only once. */
  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (!this.done) (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    if (listeners === undefined) return;
    const at = listeners.indexOf(listener);
    if (at !== -1) listeners.splice(at, 1);
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
  }
}
