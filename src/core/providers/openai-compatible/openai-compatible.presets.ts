import { ProviderName } from '../provider-adapter';

/** Vendor differences as data, not subclasses (the Vercel AI SDK's openai-compatible pattern). */
export interface OpenAiCompatiblePreset {
  name: Exclude<ProviderName, 'ollama'>;
  /** Public API root, `/v1` included; `*_BASE_URL` overrides it. */
  defaultBaseUrl: string;
  /** Extra headers sent on every call (OpenRouter's app attribution). */
  headers: Record<string, string>;
}

export const OPENAI_COMPATIBLE_PRESETS: Record<OpenAiCompatiblePreset['name'], OpenAiCompatiblePreset> = {
  openai: { name: 'openai', defaultBaseUrl: 'https://api.openai.com/v1', headers: {} },
  openrouter: {
    name: 'openrouter',
    defaultBaseUrl: 'https://openrouter.ai/api/v1',
    // https://openrouter.ai/docs/api-reference/overview#headers (app attribution)
    headers: { 'HTTP-Referer': 'https://github.com/mana-llm/mana-llm', 'X-Title': 'mana-llm' },
  },
  groq: { name: 'groq', defaultBaseUrl: 'https://api.groq.com/openai/v1', headers: {} },
  together: { name: 'together', defaultBaseUrl: 'https://api.together.xyz/v1', headers: {} },
};
