import { Inject, Injectable, Logger } from '@nestjs/common';
import { isLlmError, LlmError } from '../errors/llm-error';
import { ModelNotFoundError } from '../errors/request-errors';
import { UpstreamProtocolError } from '../errors/upstream-errors';
import { ProviderHealthCache } from '../health/provider-health.cache';
import { ResolvedManaLlmOptions } from '../mana-llm.options';
import { ModelList, ModelObject } from '../openai/model.types';
import { ProviderAdapter, ProviderName } from '../providers/provider-adapter';
import { ProviderRegistry } from '../providers/provider-registry';
import { AliasCatalog } from '../routing/alias-catalog';
import { isAliasId, parseConcreteModel } from '../routing/model-ref';
import { CLOCK, Clock, RESOLVED_OPTIONS } from '../tokens';

/** How long a provider's model list is reused. */
export const MODEL_LIST_TTL_MS = 60_000;
/** How long a failed listing keeps the provider out before it is asked again. */
export const FAILED_LIST_TTL_MS = 5_000;

interface Listing {
  expires: number;
  models?: ModelObject[];
  error?: LlmError;
  /** The fetch in flight: concurrent callers share it. */
  pending?: Promise<ModelObject[]>;
}

/**
 * `GET /v1/models`: every alias (`owned_by: "mana"`), then each configured provider's models as
 * `provider/model` (Ollama's `/api/tags`, the clouds' `/models`), fetched in parallel with the probe
 * timeout and cached per provider for a minute. A provider that is down (the listing fails, or the
 * breaker has it open) is left out and the list still answers.
 */
@Injectable()
export class ModelCatalog {
  private readonly logger = new Logger('ModelCatalog');
  private readonly listings = new Map<ProviderName, Listing>();
  private readonly timeoutMs: number;
  /** Aliases have no upstream creation time: they carry the time the catalog came up. */
  private readonly bootSeconds: number;

  constructor(
    @Inject(ProviderRegistry) private readonly providers: Pick<ProviderRegistry, 'configured' | 'get'>,
    @Inject(ProviderHealthCache) private readonly health: Pick<ProviderHealthCache, 'isAvailable'>,
    @Inject(AliasCatalog) private readonly aliases: Pick<AliasCatalog, 'list' | 'get'>,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RESOLVED_OPTIONS) options: Pick<ResolvedManaLlmOptions, 'probe'>,
  ) {
    this.timeoutMs = options.probe.timeoutMs;
    this.bootSeconds = Math.floor(clock.now() / 1000);
  }

  async list(): Promise<ModelList> {
    const adapters = this.providers.configured().filter((a) => this.health.isAvailable(a.name));
    const settled = await Promise.allSettled(adapters.map((adapter) => this.modelsOf(adapter)));
    const data = this.aliases.list().map((alias) => this.aliasObject(alias.id));
    for (const result of settled) if (result.status === 'fulfilled') data.push(...result.value);
    return { object: 'list', data };
  }

  /**
   * One model by id (`mana/...`, `provider/model`, or a bare Ollama name). Unknown: 404. A provider
   * whose listing fails answers that failure (502/504): the model may well exist.
   */
  async get(id: string): Promise<ModelObject> {
    if (isAliasId(id)) {
      if (!this.aliases.get(id)) throw new ModelNotFoundError(id);
      return this.aliasObject(id);
    }
    const entry = parseConcreteModel(id);
    const adapter = this.providers.get(entry.provider);
    if (!adapter) throw new ModelNotFoundError(id);
    const models = await this.modelsOf(adapter);
    // Ollama reads a name without a tag as `:latest`.
    const latest = entry.provider === 'ollama' && !entry.model.includes(':') ? `${entry.label}:latest` : '';
    const found = models.find((m) => m.id === entry.label) ?? models.find((m) => m.id === latest);
    if (!found) throw new ModelNotFoundError(id);
    return found;
  }

  private aliasObject(id: string): ModelObject {
    return { id, object: 'model', created: this.bootSeconds, owned_by: 'mana' };
  }

  private modelsOf(adapter: ProviderAdapter): Promise<ModelObject[]> {
    const now = this.clock.now();
    const cached = this.listings.get(adapter.name);
    if (cached?.pending) return cached.pending;
    if (cached && cached.expires > now) {
      return cached.models ? Promise.resolve(cached.models) : Promise.reject(cached.error);
    }
    const listing: Listing = { expires: 0 };
    listing.pending = adapter.listModels({ timeoutMs: this.timeoutMs }).then(
      (upstream) => {
        const models = upstream.map((m): ModelObject => ({
          id: `${adapter.name}/${m.id}`,
          object: 'model',
          created: m.created,
          owned_by: adapter.name,
        }));
        listing.models = models;
        listing.pending = undefined;
        listing.expires = this.clock.now() + MODEL_LIST_TTL_MS;
        return models;
      },
      (err: unknown) => {
        const error = isLlmError(err)
          ? err
          : new UpstreamProtocolError(`${adapter.name} model listing failed`, adapter.name, { cause: err });
        // The reason only: an upstream's message may quote part of the gateway's key.
        this.logger.warn(`${adapter.name} models left out of the catalogue (${error.reason})`);
        listing.error = error;
        listing.pending = undefined;
        listing.expires = this.clock.now() + FAILED_LIST_TTL_MS;
        throw error;
      },
    );
    this.listings.set(adapter.name, listing);
    return listing.pending;
  }
}
