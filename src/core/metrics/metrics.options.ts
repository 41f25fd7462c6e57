import type { Registry } from 'prom-client';

/** `ManaLlmOptions.metrics`: `true` (default), `false`, or the details. */
export interface MetricsOptions {
  /**
   * Register mana-llm's series in this registry instead of a new one of its own, e.g. prom-client's
   * global `register` that `@willsoto/nestjs-prometheus` serves on a host app's `/metrics`. One
   * registry per `ManaLlmModule` instance (the names would collide).
   */
  registry?: Registry;
  /**
   * Add prom-client's default Node.js process metrics to the registry. Default: true for mana-llm's
   * own registry, false for a registry passed in (its owner usually collects them already).
   */
  defaultMetrics?: boolean;
}

export interface ResolvedMetricsOptions {
  enabled: boolean;
  registry?: Registry;
  defaultMetrics: boolean;
}

/** Defaults and checks for `metrics` and `requestLog`; problems are appended, one line each. */
export function resolveMetricsOptions(
  options: boolean | MetricsOptions | undefined,
  problems: string[],
): ResolvedMetricsOptions {
  if (options === undefined || options === true) return { enabled: true, defaultMetrics: true };
  if (options === false) return { enabled: false, defaultMetrics: false };
  if (typeof options !== 'object' || options === null) {
    problems.push('metrics must be a boolean or an object');
    return { enabled: true, defaultMetrics: true };
  }
  const registry = options.registry;
  if (registry !== undefined && (typeof registry !== 'object' || typeof registry.metrics !== 'function')) {
    problems.push('metrics.registry must be a prom-client Registry');
    return { enabled: true, defaultMetrics: true };
  }
  if (options.defaultMetrics !== undefined && typeof options.defaultMetrics !== 'boolean')
    problems.push('metrics.defaultMetrics must be a boolean');
  const defaultMetrics = typeof options.defaultMetrics === 'boolean' ? options.defaultMetrics : !registry;
  return { enabled: true, registry, defaultMetrics };
}

export function resolveRequestLog(option: boolean | undefined, problems: string[]): boolean {
  if (option === undefined) return true;
  if (typeof option !== 'boolean') problems.push('requestLog must be a boolean');
  return option !== false;
}
