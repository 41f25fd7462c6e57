import { Injectable } from '@nestjs/common';
import { ModelNotFoundError } from '../errors/request-errors';
import { AliasCatalog } from './alias-catalog';
import { ChainEntry, isAliasId, parseConcreteModel } from './model-ref';

/** What a requested model resolves to: a chain of one for a direct model, an alias's chain otherwise. */
export interface Route {
  requested: string;
  alias: string | undefined;
  chain: ChainEntry[];
}

@Injectable()
export class RouteResolver {
  constructor(private readonly aliases: AliasCatalog) {}

  resolve(model: string): Route {
    if (isAliasId(model)) {
      const alias = this.aliases.get(model);
      if (!alias) throw new ModelNotFoundError(model);
      return { requested: model, alias: model, chain: alias.chain };
    }
    return { requested: model, alias: undefined, chain: [parseConcreteModel(model)] };
  }
}
