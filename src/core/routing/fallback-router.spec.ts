import { Logger } from '@nestjs/common';
import { Observable, Subject, firstValueFrom, of, throwError, toArray } from 'rxjs';
import { LlmError } from '../errors/llm-error';
import { ClientAbortError } from '../errors/request-errors';
import { AllProvidersFailedError } from '../errors/routing-errors';
import {
  ProviderBusyError,
  UpstreamBadRequestError,
  UpstreamConnectionError,
  UpstreamRateLimitError,
  UpstreamServerError,
  UpstreamStreamError,
  UpstreamTimeoutError,
} from '../errors/upstream-errors';
import { ProviderHealthCache } from '../health/provider-health.cache';
import { NoopLlmMetrics } from '../metrics/llm-metrics';
import { ChatCompletionChunk, ChunkDelta } from '../openai/chat-completion.types';
import { ProviderRegistry } from '../providers/provider-registry';
import { resolveOptions } from '../resolve-options';
import { Clock } from '../tokens';
import { FallbackRouter } from './fallback-router';
import { ChainEntry, parseConcreteModel } from './model-ref';
import { Route } from './route-resolver';

/** A no-op metrics sink that records the routing calls. */
function recordingMetrics() {
  const fallbacks: [string, string, string][] = [];
  const resolved: [string, string][] = [];
  return Object.assign(new NoopLlmMetrics(), {
    fallbacks,
    resolved,
    fallback: (from: string, to: string, reason: string) => void fallbacks.push([from, to, reason]),
    aliasResolved: (alias: string, target: string) => void resolved.push([alias, target]),
  });
}

const clock: Clock & { t: number } = { t: 1_000_000, now: () => clock.t };

const CHAIN = [
  'openai/gpt-4o-mini',
  'groq/llama-3.1-8b-instant',
  'openrouter/meta-llama/x',
  'ollama/gemma3:4b',
];
const alias = (labels = CHAIN): Route => ({
  requested: 'mana/test',
  alias: 'mana/test',
  chain: labels.map((l) => parseConcreteModel(l)),
});
const direct = (label: string): Route => ({
  requested: label,
  alias: undefined,
  chain: [parseConcreteModel(label)],
});

function chunk(model: string, delta: ChunkDelta, finish: 'stop' | null = null): ChatCompletionChunk {
  return {
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

describe(FallbackRouter.name, () => {
  let registry: ProviderRegistry;
  let health: ProviderHealthCache;
  let metrics: ReturnType<typeof recordingMetrics>;
  let router: FallbackRouter;
  let called: string[];

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    const options = resolveOptions({ groq: { apiKey: 'g' }, openrouter: { apiKey: 'o' } });
    registry = new ProviderRegistry(options);
    metrics = recordingMetrics();
    health = new ProviderHealthCache(options, registry, metrics, clock);
    router = new FallbackRouter(registry, health, metrics, clock);
    called = [];
  });
  afterEach(() => registry.onApplicationShutdown());

  /** An attempt function: each entry label gets its outcome (a value, or an error to throw). */
  function outcomes(map: Record<string, string | Error>) {
    return async (_adapter: unknown, entry: ChainEntry): Promise<string> => {
      called.push(entry.label);
      const outcome = map[entry.label];
      if (outcome === undefined) throw new Error(`unexpected call to ${entry.label}`);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    };
  }

  describe('call', () => {
    it('should answer from the first configured entry when it succeeds', async () => {
      const routed = await router.call(alias(), outcomes({ 'groq/llama-3.1-8b-instant': 'hi' }));
      expect(routed.value).toBe('hi');
      expect(routed.entry.label).toBe('groq/llama-3.1-8b-instant');
      expect(routed.attempts).toEqual([{ model: 'openai/gpt-4o-mini', reason: 'unconfigured' }]);
      expect(metrics.fallbacks).toEqual([
        ['openai/gpt-4o-mini', 'groq/llama-3.1-8b-instant', 'unconfigured'],
      ]);
      expect(metrics.resolved).toEqual([['mana/test', 'groq/llama-3.1-8b-instant']]);
    });

    it('should move to the next entry and record a breaker failure when an entry fails retryably', async () => {
      const routed = await router.call(
        alias(),
        outcomes({
          'groq/llama-3.1-8b-instant': new UpstreamServerError('500', 'groq'),
          'openrouter/meta-llama/x': 'from openrouter',
        }),
      );
      expect(routed.value).toBe('from openrouter');
      expect(routed.attempts).toEqual([
        { model: 'openai/gpt-4o-mini', reason: 'unconfigured' },
        { model: 'groq/llama-3.1-8b-instant', reason: 'UpstreamServerError' },
      ]);
      expect(metrics.fallbacks[1]).toEqual([
        'groq/llama-3.1-8b-instant',
        'openrouter/meta-llama/x',
        'UpstreamServerError',
      ]);
      expect(health.snapshot().groq.consecutive_failures).toBe(1);
      expect(health.snapshot().openrouter.consecutive_failures).toBe(0);
    });

    it.each([
      ['a non-retryable upstream 4xx', new UpstreamBadRequestError('bad', 'groq', 400)],
      ['an unknown exception', new TypeError('bug')],
      ['the caller leaving', new ClientAbortError()],
    ])('should return the error at once and record nothing when it is %s', async (_what, error) => {
      await expect(
        router.call(
          alias(),
          outcomes({ 'groq/llama-3.1-8b-instant': error, 'openrouter/meta-llama/x': 'never' }),
        ),
      ).rejects.toBe(error);
      expect(called).toEqual(['groq/llama-3.1-8b-instant']);
      expect(health.snapshot().groq.consecutive_failures).toBe(0);
      expect(metrics.fallbacks).toEqual([
        ['openai/gpt-4o-mini', 'groq/llama-3.1-8b-instant', 'unconfigured'],
      ]);
      expect(metrics.resolved).toEqual([]);
    });

    it('should answer 503 with every attempt in order when the whole chain fails', async () => {
      const error = await router
        .call(
          alias(),
          outcomes({
            'groq/llama-3.1-8b-instant': new UpstreamTimeoutError('t', 'groq'),
            'openrouter/meta-llama/x': new UpstreamRateLimitError('r', 'openrouter'),
            'ollama/gemma3:4b': new UpstreamConnectionError('c', 'ollama'),
          }),
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AllProvidersFailedError);
      const failed = error as AllProvidersFailedError;
      expect(failed.status).toBe(503);
      expect(failed.attempts).toEqual([
        { model: 'openai/gpt-4o-mini', reason: 'unconfigured' },
        { model: 'groq/llama-3.1-8b-instant', reason: 'UpstreamTimeoutError' },
        { model: 'openrouter/meta-llama/x', reason: 'UpstreamRateLimitError' },
        { model: 'ollama/gemma3:4b', reason: 'UpstreamConnectionError' },
      ]);
      expect(metrics.fallbacks).toEqual([
        ['openai/gpt-4o-mini', 'groq/llama-3.1-8b-instant', 'unconfigured'],
        ['groq/llama-3.1-8b-instant', 'openrouter/meta-llama/x', 'UpstreamTimeoutError'],
        ['openrouter/meta-llama/x', 'ollama/gemma3:4b', 'UpstreamRateLimitError'],
        ['ollama/gemma3:4b', 'none', 'UpstreamConnectionError'],
      ]);
      expect(called).toEqual(['groq/llama-3.1-8b-instant', 'openrouter/meta-llama/x', 'ollama/gemma3:4b']);
    });

    it('should fall through without a breaker failure when Ollama is busy', async () => {
      const routed = await router.call(
        alias(['ollama/gemma3:4b', 'groq/llama-3.1-8b-instant']),
        outcomes({
          'ollama/gemma3:4b': new ProviderBusyError('server busy', 'ollama'),
          'groq/llama-3.1-8b-instant': 'ok',
        }),
      );
      expect(routed.attempts).toEqual([{ model: 'ollama/gemma3:4b', reason: 'ProviderBusyError' }]);
      expect(health.snapshot().ollama.consecutive_failures).toBe(0);
    });

    it('should skip an unhealthy provider without calling it', async () => {
      health.recordFailure('groq', new UpstreamServerError('a', 'groq'));
      health.recordFailure('groq', new UpstreamServerError('b', 'groq'));
      const routed = await router.call(alias(), outcomes({ 'openrouter/meta-llama/x': 'ok' }));
      expect(called).toEqual(['openrouter/meta-llama/x']);
      expect(routed.attempts[1]).toEqual({ model: 'groq/llama-3.1-8b-instant', reason: 'cache-unhealthy' });
    });

    it("should throw a direct model's own upstream error when its only entry fails", async () => {
      const timeout = new UpstreamTimeoutError('t', 'groq');
      await expect(
        router.call(direct('groq/llama-3.1-8b-instant'), outcomes({ 'groq/llama-3.1-8b-instant': timeout })),
      ).rejects.toBe(timeout);
      expect(metrics.fallbacks).toEqual([['groq/llama-3.1-8b-instant', 'none', 'UpstreamTimeoutError']]);
      expect(metrics.resolved).toEqual([]);
    });

    it('should answer 503 with the skip when a direct model names an unconfigured provider', async () => {
      const error = (await router
        .call(direct('openai/gpt-4o-mini'), outcomes({}))
        .catch((e: unknown) => e)) as AllProvidersFailedError;
      expect(error).toBeInstanceOf(AllProvidersFailedError);
      expect(error.attempts).toEqual([{ model: 'openai/gpt-4o-mini', reason: 'unconfigured' }]);
    });

    it('should name a retryable subclass by its nearest known ancestor', async () => {
      class OverloadedError extends UpstreamServerError {}
      const routed = await router.call(
        alias(['groq/a', 'ollama/b']),
        outcomes({ 'groq/a': new OverloadedError('x', 'groq'), 'ollama/b': 'ok' }),
      );
      expect(routed.attempts).toEqual([{ model: 'groq/a', reason: 'UpstreamServerError' }]);
    });
  });

  describe('stream', () => {
    const G = 'groq/llama-3.1-8b-instant';
    const O = 'ollama/gemma3:4b';
    const route = alias([G, O]);
    const answer = (model: string, text: string): ChatCompletionChunk[] => [
      chunk(model, { role: 'assistant', content: '' }),
      chunk(model, { content: text }),
      chunk(model, {}, 'stop'),
    ];

    function streams(map: Record<string, () => Observable<ChatCompletionChunk>>) {
      return (_adapter: unknown, entry: ChainEntry): Observable<ChatCompletionChunk> => {
        called.push(entry.label);
        const make = map[entry.label];
        if (!make) throw new Error(`unexpected call to ${entry.label}`);
        return make();
      };
    }
    const failingAfter = (chunks: ChatCompletionChunk[], error: LlmError | Error) =>
      new Observable<ChatCompletionChunk>((s) => {
        for (const c of chunks) s.next(c);
        s.error(error);
      });
    const collect = (source: Observable<ChatCompletionChunk>) => firstValueFrom(source.pipe(toArray()));

    it.each([
      [
        'a role-only chunk',
        [chunk(G, { role: 'assistant', content: '' })],
        new UpstreamStreamError('e', 'groq'),
      ],
      [
        'a reasoning delta',
        [chunk(G, { role: 'assistant', reasoning: 'We need' })],
        new UpstreamStreamError('e', 'groq'),
      ],
      ['nothing', [], new UpstreamTimeoutError('t', 'groq')],
    ])(
      'should fall back without leaking the chunks when %s came before the error',
      async (_what, early, error) => {
        const out = await collect(
          router.stream(
            route,
            streams({ [G]: () => failingAfter(early, error), [O]: () => of(...answer(O, 'hello')) }),
          ),
        );
        expect(out).toEqual(answer(O, 'hello'));
        expect(out.every((c) => c.model === O)).toBe(true);
        expect(metrics.fallbacks).toEqual([[G, O, error.name]]);
        expect(metrics.resolved).toEqual([['mana/test', O]]);
      },
    );

    it('should end with the error and never call the next entry when content came first', async () => {
      const error = new UpstreamStreamError('cut', 'groq');
      const seen: ChatCompletionChunk[] = [];
      const failure = await new Promise<unknown>((resolve) =>
        router
          .stream(
            route,
            streams({ [G]: () => failingAfter(answer(G, 'partial').slice(0, 2), error), [O]: () => of() }),
          )
          .subscribe({ next: (c) => seen.push(c), error: resolve }),
      );
      expect(failure).toBe(error);
      expect(seen.map((c) => c.choices[0].delta.content)).toEqual(['', 'partial']);
      expect(called).toEqual([G]);
      expect(metrics.fallbacks).toEqual([]);
      expect(health.snapshot().groq.consecutive_failures).toBe(1);
    });

    it('should commit on a tool-call delta', async () => {
      const call = chunk(G, {
        tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: '' } }],
      });
      const failure = await new Promise<unknown>((resolve) =>
        router
          .stream(
            route,
            streams({
              [G]: () => failingAfter([call], new UpstreamStreamError('x', 'groq')),
              [O]: () => of(),
            }),
          )
          .subscribe({ error: resolve }),
      );
      expect(failure).toBeInstanceOf(UpstreamStreamError);
      expect(called).toEqual([G]);
    });

    it('should return a non-retryable error at once when it comes before the first chunk', async () => {
      const bad = new UpstreamBadRequestError('no', 'groq', 400);
      await expect(
        collect(router.stream(route, streams({ [G]: () => throwError(() => bad), [O]: () => of() }))),
      ).rejects.toBe(bad);
      expect(called).toEqual([G]);
    });

    it('should fall back when the attempt itself throws synchronously', async () => {
      const out = await collect(
        router.stream(
          route,
          streams({
            [G]: () => {
              throw new UpstreamConnectionError('refused', 'groq');
            },
            [O]: () => of(...answer(O, 'ok')),
          }),
        ),
      );
      expect(out[1].choices[0].delta.content).toBe('ok');
      expect(metrics.fallbacks).toEqual([[G, O, 'UpstreamConnectionError']]);
    });

    it('should deliver an empty answer when the stream completes without content', async () => {
      const empty = [chunk(G, { role: 'assistant', content: '' }), chunk(G, {}, 'stop')];
      const out = await collect(router.stream(route, streams({ [G]: () => of(...empty) })));
      expect(out).toEqual(empty);
      expect(metrics.resolved).toEqual([['mana/test', G]]);
    });

    it('should answer 503 with the attempts when every entry fails before content', async () => {
      const error = (await collect(
        router.stream(
          route,
          streams({
            [G]: () => throwError(() => new UpstreamServerError('500', 'groq')),
            [O]: () =>
              failingAfter(
                [chunk(O, { role: 'assistant' })],
                new UpstreamStreamError('model failed', 'ollama'),
              ),
          }),
        ),
      ).catch((e: unknown) => e)) as AllProvidersFailedError;
      expect(error).toBeInstanceOf(AllProvidersFailedError);
      expect(error.attempts).toEqual([
        { model: G, reason: 'UpstreamServerError' },
        { model: O, reason: 'UpstreamStreamError' },
      ]);
    });

    it('should abort the current upstream and record no failure when the caller unsubscribes', async () => {
      let tornDown = false;
      const pending = new Subject<ChatCompletionChunk>();
      const sub = router
        .stream(
          route,
          streams({
            [G]: () =>
              new Observable<ChatCompletionChunk>((s) => {
                const inner = pending.subscribe(s);
                return () => {
                  tornDown = true;
                  inner.unsubscribe();
                };
              }),
          }),
        )
        .subscribe();
      pending.next(chunk(G, { role: 'assistant' }));
      sub.unsubscribe();
      expect(tornDown).toBe(true);
      expect(health.snapshot().groq.consecutive_failures).toBe(0);
      expect(metrics.fallbacks).toEqual([]);
    });

    it('should record the latency to the first committed chunk as a success', async () => {
      const source = new Subject<ChatCompletionChunk>();
      const done = collect(router.stream(direct(G), streams({ [G]: () => source })));
      clock.t += 40;
      source.next(chunk(G, { role: 'assistant' }));
      clock.t += 60;
      source.next(chunk(G, { content: 'x' }));
      clock.t += 500;
      source.complete();
      await done;
      expect(health.snapshot().groq.latency_ms).toBe(100);
    });
  });
});
