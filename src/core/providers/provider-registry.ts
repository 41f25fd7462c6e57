import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ResolvedManaLlmOptions } from '../mana-llm.options';
import { RESOLVED_OPTIONS } from '../tokens';
import { OllamaAdapter, ImageInliner } from './ollama/ollama.adapter';
import { OpenAiCompatibleAdapter } from './openai-compatible/openai-compatible.adapter';
import { OPENAI_COMPATIBLE_PRESETS } from './openai-compatible/openai-compatible.presets';
import { PROVIDER_NAMES, ProviderAdapter, ProviderName } from './provider-adapter';
import { ImageFetcher } from './ollama/image-fetcher';
import { withConcurrencyLimit } from './limited-adapter';

/** The configured adapters by provider name. Ollama is always configured; clouds when keyed. */
@Injectable()
export class ProviderRegistry implements OnApplicationShutdown {
  private readonly adapters = new Map<ProviderName, ProviderAdapter>();

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedManaLlmOptions) {
    const images: ImageInliner = new ImageFetcher(options.images);
    this.adapters.set(
      'ollama',
      withConcurrencyLimit(
        new OllamaAdapter({
          baseUrl: options.ollama.baseUrl,
          timeoutMs: options.ollama.timeoutMs,
          defaults: { numCtx: options.ollama.numCtx },
          images,
        }),
        options.ollama.concurrency,
      ),
    );
    for (const [name, cloud] of Object.entries(options.cloud)) {
      const preset = OPENAI_COMPATIBLE_PRESETS[name as keyof typeof OPENAI_COMPATIBLE_PRESETS];
      this.adapters.set(
        preset.name,
        withConcurrencyLimit(
          new OpenAiCompatibleAdapter({
            preset,
            apiKey: cloud.apiKey,
            baseUrl: cloud.baseUrl,
            timeoutMs: cloud.timeoutMs,
          }),
          cloud.concurrency,
        ),
      );
    }
  }

  get(name: ProviderName): ProviderAdapter | undefined {
    return this.adapters.get(name);
  }

  isConfigured(name: ProviderName): boolean {
    return this.adapters.has(name);
  }

  /** Configured providers in the canonical order. */
  configured(): ProviderAdapter[] {
    const out: ProviderAdapter[] = [];
    for (const name of PROVIDER_NAMES) {
      const adapter = this.adapters.get(name);
      if (adapter) out.push(adapter);
    }
    return out;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.adapters.values()].map((a) => a.close()));
  }
}
