import { InvalidRequestError } from '../errors/request-errors';
import { isProviderName, ProviderName } from '../providers/provider-adapter';

/** One concrete chain entry: `label` is `provider/model`, the name answers carry. */
export interface ChainEntry {
  provider: ProviderName;
  model: string;
  label: string;
}

export const ALIAS_PREFIX = 'mana/';

/**
 * SPEC §1: only the first `/` splits; a known provider prefix names the provider, anything else
 * (no prefix, or an unknown first segment like `library/` or `hf.co/`) is an Ollama model.
 * `mana/...` is an alias and is not parsed here.
 */
export function parseConcreteModel(model: string, param = 'model'): ChainEntry {
  const slash = model.indexOf('/');
  if (slash > 0) {
    const prefix = model.slice(0, slash);
    if (isProviderName(prefix)) {
      const name = model.slice(slash + 1);
      if (name.length === 0)
        throw new InvalidRequestError(`'${param}' names no model after '${prefix}/'`, param);
      return { provider: prefix, model: name, label: model };
    }
  }
  return { provider: 'ollama', model, label: `ollama/${model}` };
}

export function isAliasId(model: string): boolean {
  return model.startsWith(ALIAS_PREFIX);
}
