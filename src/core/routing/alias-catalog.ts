import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { AliasDefinition, ResolvedManaLlmOptions } from '../mana-llm.options';
import { isProviderName } from '../providers/provider-adapter';
import { RESOLVED_OPTIONS } from '../tokens';
import { ALIAS_PREFIX, ChainEntry } from './model-ref';

export interface Alias {
  id: string;
  description: string;
  chain: ChainEntry[];
}

/** Validates an aliases document; returns the aliases or throws one error listing every problem. */
export function parseAliases(doc: unknown, source: string): Map<string, Alias> {
  const problems: string[] = [];
  const out = new Map<string, Alias>();
  const root = doc === null || doc === undefined ? {} : doc;
  const aliases = (root as { aliases?: unknown }).aliases;
  if (
    typeof root !== 'object' ||
    Array.isArray(root) ||
    (aliases !== undefined && aliases !== null && (typeof aliases !== 'object' || Array.isArray(aliases)))
  ) {
    throw new Error(`${source}: expected a mapping 'aliases: {<id>: {description, chain}}'`);
  }
  for (const [id, raw] of Object.entries((aliases ?? {}) as Record<string, unknown>)) {
    if (!id.startsWith(ALIAS_PREFIX) || id.length === ALIAS_PREFIX.length) {
      problems.push(`alias '${id}': ids must start with '${ALIAS_PREFIX}'`);
      continue;
    }
    const def = raw as Partial<AliasDefinition> | null;
    if (!def || typeof def !== 'object' || !Array.isArray(def.chain) || def.chain.length === 0) {
      problems.push(`alias '${id}': 'chain' must be a non-empty list`);
      continue;
    }
    if (def.description !== undefined && typeof def.description !== 'string') {
      problems.push(`alias '${id}': 'description' must be a string`);
    }
    const chain: ChainEntry[] = [];
    def.chain.forEach((entry, i) => {
      const slash = typeof entry === 'string' ? entry.indexOf('/') : -1;
      const prefix = slash > 0 ? (entry as string).slice(0, slash) : '';
      if (typeof entry !== 'string' || slash <= 0 || slash === entry.length - 1 || !isProviderName(prefix)) {
        problems.push(
          `alias '${id}': chain[${i}] '${String(entry)}' must be a concrete 'provider/model' with a known provider`,
        );
        return;
      }
      chain.push({ provider: prefix, model: entry.slice(slash + 1), label: entry });
    });
    out.set(id, { id, description: def.description ?? '', chain });
  }
  if (problems.length > 0)
    throw new Error(`${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return out;
}

/**
 * The `mana/...` aliases: from an inline map or `aliases.yaml`, validated at boot (a broken file stops
 * the boot), reloaded on SIGHUP (a broken file then keeps the last good state and logs why).
 */
@Injectable()
export class AliasCatalog implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AliasCatalog');
  private aliases = new Map<string, Alias>();
  private readonly path: string | undefined;
  private readonly onHup = () => this.reload();

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedManaLlmOptions) {
    const config = options.aliases;
    if ('inline' in config) {
      this.aliases = parseAliases({ aliases: config.inline }, 'aliases option');
      return;
    }
    const path = resolve(config.path ?? './aliases.yaml');
    if (!existsSync(path)) {
      if (config.required) throw new Error(`ALIASES_PATH ${path} does not exist`);
      this.logger.warn(`no aliases file at ${path}: no mana/ aliases are defined`);
      return;
    }
    this.path = path;
    this.aliases = this.load(path);
  }

  onModuleInit(): void {
    if (this.path) process.on('SIGHUP', this.onHup);
  }

  onModuleDestroy(): void {
    process.off('SIGHUP', this.onHup);
  }

  get(id: string): Alias | undefined {
    return this.aliases.get(id);
  }

  list(): Alias[] {
    return [...this.aliases.values()];
  }

  /** Re-reads the file; on any problem the previous aliases stay. Returns whether it took. */
  reload(): boolean {
    if (!this.path) return false;
    try {
      this.aliases = this.load(this.path);
      this.logger.log(`reloaded ${this.aliases.size} aliases from ${this.path}`);
      return true;
    } catch (err) {
      this.logger.error(
        `alias reload failed, keeping the previous ${this.aliases.size} aliases: ${(err as Error).message}`,
      );
      return false;
    }
  }

  private load(path: string): Map<string, Alias> {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`${path} is not valid YAML: ${(err as Error).message}`);
    }
    return parseAliases(doc, path);
  }
}
