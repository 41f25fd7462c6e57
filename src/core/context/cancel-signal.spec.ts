import { asAbortSignal, CancelSource } from './cancel-signal';

describe(CancelSource.name, () => {
  it('should run each listener once, in order, when it aborts', () => {
    const source = new CancelSource();
    const calls: string[] = [];
    source.addEventListener('abort', () => calls.push('a'));
    source.addEventListener('abort', () => calls.push('b'), { once: true });
    expect(source.aborted).toBe(false);
    source.abort();
    source.abort();
    expect(source.aborted).toBe(true);
    expect(calls).toEqual(['a', 'b']);
  });

  it('should not run a removed listener, nor one added after the abort', () => {
    const source = new CancelSource();
    const removed = jest.fn();
    const kept = jest.fn();
    source.addEventListener('abort', removed);
    source.addEventListener('abort', kept);
    source.removeEventListener('abort', removed);
    source.removeEventListener('abort', () => undefined); // unknown listener: no effect
    source.abort();
    const late = jest.fn();
    source.addEventListener('abort', late);
    expect([removed.mock.calls.length, kept.mock.calls.length, late.mock.calls.length]).toEqual([0, 1, 0]);
  });
});

describe(asAbortSignal.name, () => {
  it('should hand an AbortSignal back as it is', () => {
    const controller = new AbortController();
    expect(asAbortSignal(controller.signal)).toBe(controller.signal);
  });

  it('should give a signal that aborts with the CancelSource', () => {
    const source = new CancelSource();
    const signal = asAbortSignal(source);
    const seen = jest.fn();
    signal.addEventListener('abort', seen);
    expect(signal.aborted).toBe(false);
    source.abort();
    expect(signal.aborted).toBe(true);
    expect(seen).toHaveBeenCalledTimes(1);
  });

  it('should give an aborted signal for a source that already aborted', () => {
    const source = new CancelSource();
    source.abort();
    expect(asAbortSignal(source).aborted).toBe(true);
  });
});
