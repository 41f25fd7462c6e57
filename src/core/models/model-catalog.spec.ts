import { Observable } from 'rxjs';
import { ModelNotFoundError } from '../errors/request-errors';
import { UpstreamConnectionError } from '../errors/upstream-errors';
import { ChatCompletion, ChatCompletionChunk } from '../openai/chat-completion.types';
import { EmbeddingResult, ProviderAdapter, ProviderName, UpstreamModel } from '../providers/provider-adapter';
import { Alias } from '../routing/alias-catalog';
import { FAILED_LIST_TTL_MS, MODEL_LIST_TTL_MS, ModelCatalog } from './model-catalog';

/** An adapter whose only live method is listModels; anything else fails the test. */
class ListingAdapter implements ProviderAdapter {
  calls: { timeoutMs: number }[] = [];
  constructor(
    readonly name: ProviderName,
    public answer: () => Promise<UpstreamModel[]>,
  ) {}
  listModels(options: { timeoutMs: number }): Promise<UpstreamModel[]> {
    this.calls.push({ timeoutMs: options.timeoutMs });
    return this.answer();
  }
  chat(): Promise<ChatCompletion> {
    throw new Error('not used');
  }
  chatStream(): Observable<ChatCompletionChunk> {
    throw new Error('not used');
  }
  embed(): Promise<EmbeddingResult> {
    throw new Error('not used');
  }
  probe(): Promise<void> {
    throw new Error('not used');
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const BOOT = Date.parse('2026-01-01T00:00:00Z');
const ALIASES: Alias[] = [
  { id: 'mana/fast-text', description: '', chain: [] },
  { id: 'mana/vision', description: '', chain: [] },
];

describe(ModelCatalog.name, () => {
  let now: number;
  let ollama: ListingAdapter;
  let openai: ListingAdapter;
  let groq: ListingAdapter;
  let unhealthy: Set<ProviderName>;
  let catalog: ModelCatalog;

  beforeEach(() => {
    now = BOOT;
    unhealthy = new Set();
    ollama = new ListingAdapter('ollama', async () => [
      { id: 'gemma3:4b', created: 100 },
      { id: 'llava:latest', created: 200 },
    ]);
    openai = new ListingAdapter('openai', async () => [{ id: 'gpt-4o-mini', created: 300 }]);
    groq = new ListingAdapter('groq', () =>
      Promise.reject(new UpstreamConnectionError('groq is unreachable', 'groq')),
    );
    const adapters = [ollama, openai, groq];
    catalog = new ModelCatalog(
      { configured: () => adapters, get: (name) => adapters.find((a) => a.name === name) },
      { isAvailable: (name) => !unhealthy.has(name) },
      { list: () => ALIASES, get: (id) => ALIASES.find((a) => a.id === id) },
      { now: () => now },
      { probe: { enabled: true, intervalMs: 30_000, timeoutMs: 1234 } },
    );
  });

  it('should list the aliases, then each provider in order as provider/model, leaving out a failing one', async () => {
    expect(await catalog.list()).toEqual({
      object: 'list',
      data: [
        { id: 'mana/fast-text', object: 'model', created: BOOT / 1000, owned_by: 'mana' },
        { id: 'mana/vision', object: 'model', created: BOOT / 1000, owned_by: 'mana' },
        { id: 'ollama/gemma3:4b', object: 'model', created: 100, owned_by: 'ollama' },
        { id: 'ollama/llava:latest', object: 'model', created: 200, owned_by: 'ollama' },
        { id: 'openai/gpt-4o-mini', object: 'model', created: 300, owned_by: 'openai' },
      ],
    });
    expect(ollama.calls).toEqual([{ timeoutMs: 1234 }]);
  });

  it('should reuse a listing for a minute and ask again after it', async () => {
    await catalog.list();
    now += MODEL_LIST_TTL_MS - 1;
    await catalog.list();
    expect(ollama.calls).toHaveLength(1);
    now += 1;
    ollama.answer = async () => [{ id: 'qwen3:8b', created: 5 }];
    const ids = (await catalog.list()).data.map((m) => m.id);
    expect(ollama.calls).toHaveLength(2);
    expect(ids).toContain('ollama/qwen3:8b');
    expect(ids).not.toContain('ollama/gemma3:4b');
  });

  it('should keep a failed provider out for a few seconds, then ask it again', async () => {
    await catalog.list();
    await catalog.list();
    expect(groq.calls).toHaveLength(1);
    now += FAILED_LIST_TTL_MS;
    groq.answer = async () => [{ id: 'llama-3.1-8b-instant', created: 7 }];
    expect((await catalog.list()).data.map((m) => m.id)).toContain('groq/llama-3.1-8b-instant');
    expect(groq.calls).toHaveLength(2);
  });

  it('should not ask a provider whose breaker is open', async () => {
    unhealthy.add('openai');
    const ids = (await catalog.list()).data.map((m) => m.id);
    expect(openai.calls).toHaveLength(0);
    expect(ids.some((id) => id.startsWith('openai/'))).toBe(false);
  });

  it('should share one upstream call between concurrent requests', async () => {
    let release: (models: UpstreamModel[]) => void = () => undefined;
    ollama.answer = () => new Promise((resolve) => (release = resolve));
    const pending = [catalog.list(), catalog.get('ollama/gemma3:4b'), catalog.list()];
    release([{ id: 'gemma3:4b', created: 1 }]);
    const [first, one] = await Promise.all(pending);
    expect(ollama.calls).toHaveLength(1);
    expect(one).toEqual({ id: 'ollama/gemma3:4b', object: 'model', created: 1, owned_by: 'ollama' });
    expect((first as { data: unknown[] }).data).toHaveLength(4);
  });

  describe('get', () => {
    it('should find aliases, provider models and bare Ollama names (a missing tag meaning :latest)', async () => {
      expect(await catalog.get('mana/vision')).toMatchObject({ id: 'mana/vision', owned_by: 'mana' });
      expect(await catalog.get('openai/gpt-4o-mini')).toMatchObject({
        id: 'openai/gpt-4o-mini',
        created: 300,
      });
      expect(await catalog.get('gemma3:4b')).toMatchObject({ id: 'ollama/gemma3:4b' });
      expect(await catalog.get('ollama/llava')).toMatchObject({ id: 'ollama/llava:latest' });
    });

    it.each(['mana/nope', 'ollama/nope:1b', 'openai/gpt-5-nope', 'together/anything'])(
      'should throw ModelNotFoundError for %s',
      async (id) => {
        await expect(catalog.get(id)).rejects.toBeInstanceOf(ModelNotFoundError);
      },
    );

    it('should throw the listing failure for a model of a provider that is down', async () => {
      await expect(catalog.get('groq/llama-3.1-8b-instant')).rejects.toBeInstanceOf(UpstreamConnectionError);
    });
  });
});
