/** on-exit-leak-free (pino's dependency) ships no types: the one function used here. */
declare module 'on-exit-leak-free' {
  /** Calls `fn(obj, 'exit')` on process exit while `obj` is alive (held weakly). */
  export function register<T extends object>(obj: T, fn: (obj: T, event: 'exit') => void): void;
}
