import { Injectable } from '@nestjs/common';
import { ProviderHealthCache } from '../health/provider-health.cache';
import { Alias, AliasCatalog } from './alias-catalog';

/** One entry of `GET /v1/aliases` (and of the in-process client's `aliases()`). */
export interface AliasView {
  id: string;
  description: string;
  chain: string[];
  /** The entry that would be tried first right now (configured and healthy), or null. */
  resolves_to: string | null;
}

/** The aliases as callers see them: their chains and where each would go right now. */
@Injectable()
export class AliasOverview {
  constructor(
    private readonly catalog: AliasCatalog,
    private readonly health: ProviderHealthCache,
  ) {}

  list(): AliasView[] {
    return this.catalog.list().map((alias) => this.view(alias));
  }

  view(alias: Alias): AliasView {
    let resolvesTo: string | null = null;
    const labels: string[] = new Array(alias.chain.length);
    for (let i = 0; i < alias.chain.length; i++) {
      const entry = alias.chain[i];
      labels[i] = entry.label;
      // isAvailable is false for unconfigured providers, true for closed and half-open ones.
      if (resolvesTo === null && this.health.isAvailable(entry.provider)) resolvesTo = entry.label;
    }
    return { id: alias.id, description: alias.description, chain: labels, resolves_to: resolvesTo };
  }
}
