import { parse as parseYaml } from 'yaml';
import { isProviderName } from '../providers/provider-adapter';
import { ALIAS_PREFIX, ChainEntry } from './model-ref';

export interface Alias {
  id: string;
  description: string;
  chain: ChainEntry[];
}

const ALIAS_KEYS = new Set(['description', 'chain']);
const NO_SPACE = /^\S+$/;

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses and validates the text of an aliases file; one error lists every problem. */
export function parseAliasesYaml(text: string, source: string): Map<string, Alias> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`${source} is not valid YAML: ${(err as Error).message}`);
  }
  return parseAliases(doc, source);
}

/**
 * Validates an aliases document (`{aliases: {<id>: {description, chain}}}`, SPEC §4): ids in `mana/`,
 * chains of concrete `provider/model` entries with a known provider, each entry once. Returns the
 * aliases in file order, or throws one error listing every problem.
 */
export function parseAliases(doc: unknown, source: string): Map<string, Alias> {
  // An empty or half-written file has no `aliases:` key: never mistake it for "no aliases".
  if (!isMapping(doc) || !('aliases' in doc)) {
    throw new Error(`${source} is invalid: expected a mapping 'aliases: {<id>: {description, chain}}'`);
  }
  const problems: string[] = [];
  for (const key of Object.keys(doc)) {
    if (key !== 'aliases') problems.push(`unknown top-level key '${key}' (only 'aliases' is allowed)`);
  }
  const aliases = doc.aliases ?? {};
  if (!isMapping(aliases)) {
    throw new Error(`${source} is invalid: 'aliases' must be a mapping of alias ids to {description, chain}`);
  }
  const out = new Map<string, Alias>();
  for (const [id, def] of Object.entries(aliases)) {
    const alias = parseAlias(id, def, problems);
    if (alias) out.set(id, alias);
  }
  if (problems.length > 0) {
    throw new Error(`${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return out;
}

function parseAlias(id: string, def: unknown, problems: string[]): Alias | undefined {
  const before = problems.length;
  if (!id.startsWith(ALIAS_PREFIX) || id.length === ALIAS_PREFIX.length || !NO_SPACE.test(id)) {
    problems.push(`alias '${id}': ids must be '${ALIAS_PREFIX}<name>' without spaces`);
  }
  if (!isMapping(def)) {
    problems.push(`alias '${id}': expected a mapping {description, chain}`);
    return undefined;
  }
  for (const key of Object.keys(def)) {
    if (!ALIAS_KEYS.has(key))
      problems.push(`alias '${id}': unknown key '${key}' (allowed: description, chain)`);
  }
  if (def.description !== undefined && typeof def.description !== 'string') {
    problems.push(`alias '${id}': 'description' must be a string`);
  }
  const chain: ChainEntry[] = [];
  if (!Array.isArray(def.chain) || def.chain.length === 0) {
    problems.push(`alias '${id}': 'chain' must be a non-empty list of 'provider/model' entries`);
  } else {
    const seen = new Set<string>();
    def.chain.forEach((raw: unknown, i: number) => {
      const problem = chainEntryProblem(raw);
      if (problem) return void problems.push(`alias '${id}': chain[${i}] ${problem}`);
      const label = raw as string;
      if (seen.has(label)) return void problems.push(`alias '${id}': chain[${i}] '${label}' is listed twice`);
      seen.add(label);
      const slash = label.indexOf('/');
      chain.push({
        provider: label.slice(0, slash) as ChainEntry['provider'],
        model: label.slice(slash + 1),
        label,
      });
    });
  }
  if (problems.length > before) return undefined;
  return { id, description: (def.description as string | undefined) ?? '', chain };
}

function chainEntryProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return `must be a string 'provider/model' (got ${JSON.stringify(raw)})`;
  if (!NO_SPACE.test(raw)) return `'${raw}' must not contain spaces`;
  const slash = raw.indexOf('/');
  if (slash <= 0) return `'${raw}' must be a concrete 'provider/model' (e.g. 'ollama/${raw}')`;
  const prefix = raw.slice(0, slash);
  if (prefix === 'mana') return `'${raw}' is an alias: chains hold concrete 'provider/model' entries only`;
  if (!isProviderName(prefix)) return `'${raw}' names an unknown provider '${prefix}'`;
  if (slash === raw.length - 1) return `'${raw}' names no model after '${prefix}/'`;
  return undefined;
}
