import { firstValueFrom, lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import { ProviderSaturatedError } from '../errors/routing-errors';
import { ChatCompletion, ChatCompletionChunk } from '../openai/chat-completion.types';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { LimitedAdapter, withConcurrencyLimit } from './limited-adapter';
import { ProviderAdapter } from './provider-adapter';

const limits = { maxConcurrent: 2, queueSize: 2, queueTimeoutMs: 1000 };

/** Settles pending promise callbacks. */
const flush = () => new Promise<void>((r) => setImmediate(r));

/** An adapter whose calls settle when the test says so. */
class ControlledAdapter implements ProviderAdapter {
  readonly name = 'ollama' as const;
  readonly streams: Subject<ChatCompletionChunk>[] = [];
  readonly calls: ((value: ChatCompletion) => void)[] = [];
  chat(): Promise<ChatCompletion> {
    return new Promise((resolve) => this.calls.push(resolve));
  }
  chatStream(): Observable<ChatCompletionChunk> {
    const subject = new Subject<ChatCompletionChunk>();
    this.streams.push(subject);
    return subject;
  }
  embed(): Promise<never> {
    return Promise.reject(new Error('unused'));
  }
  listModels() {
    return Promise.resolve([{ id: 'm', created: 0 }]);
  }
  probe() {
    return Promise.resolve();
  }
  close() {
    return Promise.resolve();
  }
}

const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'ollama/m', choices: [] };

describe(LimitedAdapter.name, () => {
  const request = { model: 'ollama/m', messages: [{ role: 'user' as const, content: 'hi' }] };

  it('should be the adapter itself when no limit is set', () => {
    const inner = new ControlledAdapter();
    expect(withConcurrencyLimit(inner, undefined)).toBe(inner);
    expect(withConcurrencyLimit(inner, limits)).toBeInstanceOf(LimitedAdapter);
  });

  it('should hold a JSON call slot until the call settles', async () => {
    const inner = new ControlledAdapter();
    const adapter = new LimitedAdapter(
      inner,
      new ConcurrencyLimiter('ollama', { ...limits, maxConcurrent: 1 }),
    );
    const first = adapter.chat('m', request, {});
    const second = adapter.chat('m', request, {});
    await flush();
    expect(inner.calls).toHaveLength(1);
    inner.calls[0]({} as ChatCompletion);
    await first;
    await flush();
    expect(inner.calls).toHaveLength(2);
    inner.calls[1]({} as ChatCompletion);
    await second;
    expect(adapter.limiter.inFlight).toBe(0);
  });

  it('should hold a stream slot until it completes, and free it when unsubscribed', async () => {
    const inner = new ControlledAdapter();
    const adapter = new LimitedAdapter(
      inner,
      new ConcurrencyLimiter('ollama', { ...limits, maxConcurrent: 1 }),
    );
    const all = lastValueFrom(adapter.chatStream('m', request, {}).pipe(toArray()));
    await flush();
    expect(inner.streams).toHaveLength(1);
    const queued = adapter.chatStream('m', request, {}).subscribe();
    await flush();
    expect(inner.streams).toHaveLength(1); // waiting for the slot
    inner.streams[0].next(chunk as ChatCompletionChunk);
    inner.streams[0].complete();
    expect(await all).toHaveLength(1);
    await flush();
    expect(inner.streams).toHaveLength(2);
    expect(adapter.limiter.inFlight).toBe(1);
    queued.unsubscribe();
    expect(adapter.limiter.inFlight).toBe(0);
    expect(inner.streams[1].observed).toBe(false); // the upstream stream was unsubscribed too
  });

  it('should error the stream with ProviderSaturatedError when the queue is full, and leave no slot taken', async () => {
    const inner = new ControlledAdapter();
    const adapter = new LimitedAdapter(
      inner,
      new ConcurrencyLimiter('ollama', { maxConcurrent: 1, queueSize: 0, queueTimeoutMs: 1000 }),
    );
    const held = adapter.chatStream('m', request, {}).subscribe();
    await flush();
    await expect(firstValueFrom(adapter.chatStream('m', request, {}))).rejects.toBeInstanceOf(
      ProviderSaturatedError,
    );
    held.unsubscribe();
    expect(adapter.limiter.inFlight).toBe(0);
  });

  it('should pass model listing and probes by the limit', async () => {
    const inner = new ControlledAdapter();
    const adapter = new LimitedAdapter(
      inner,
      new ConcurrencyLimiter('ollama', { ...limits, maxConcurrent: 1 }),
    );
    void adapter.chat('m', request, {});
    await flush();
    await expect(adapter.listModels({ timeoutMs: 100 })).resolves.toEqual([{ id: 'm', created: 0 }]);
    await expect(adapter.probe(100)).resolves.toBeUndefined();
  });
});
