import { GatewayConfig } from '../config/gateway-config';

/** Every secret of the standalone service's configuration: provider keys, gateway keys, Redis password. */
export function gatewaySecrets(config: GatewayConfig): string[] {
  const m = config.manaLlm;
  const secrets = [
    m.openai?.apiKey,
    m.openrouter?.apiKey,
    m.groq?.apiKey,
    m.together?.apiKey,
    ...config.apiKeys,
  ];
  if (config.cache.redisUrl) {
    try {
      const url = new URL(config.cache.redisUrl);
      if (url.password) secrets.push(url.password, decodeURIComponent(url.password));
    } catch {
      // Validated at boot already; an unparsable URL has no password to hide.
    }
  }
  return secrets.filter((s): s is string => typeof s === 'string' && s.length > 0);
}
