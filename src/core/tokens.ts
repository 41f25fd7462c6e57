/** Injection tokens of the core (symbols: two copies of the package never collide by accident). */
export const RESOLVED_OPTIONS = Symbol('mana-llm:resolved-options');
export const LLM_METRICS = Symbol('mana-llm:metrics');
export const CLOCK = Symbol('mana-llm:clock');

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
