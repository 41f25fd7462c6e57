import { ConfigValidationError, loadGatewayConfig, parseSize } from './gateway-config';

/** The lines of the boot error for `env` (throws if the env is accepted). */
function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadGatewayConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    const [title, ...lines] = (err as Error).message.split('\n');
    expect(title).toBe('Invalid configuration:');
    return lines.map((l) => l.trim());
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe(loadGatewayConfig.name, () => {
  it('should apply the SPEC §7 defaults to an empty environment', () => {
    const config = loadGatewayConfig({});
    expect(config).toMatchObject({
      port: 3025,
      logLevel: 'info',
      corsOrigins: ['localhost'],
      apiKeys: [],
      bodyLimitBytes: 25 * 1024 * 1024,
      shutdownGraceMs: 30_000,
      keepAliveMs: 10_000,
      cache: { store: 'none', ttlSeconds: 3600 },
    });
    expect(config.manaLlm).toMatchObject({
      ollama: { baseUrl: 'http://localhost:11434', defaultModel: 'gemma3:4b', timeoutMs: 120_000 },
      providerTimeoutMs: 60_000,
      aliases: { path: './aliases.yaml', required: false },
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
      probe: { intervalMs: 30_000, timeoutMs: 3_000 },
      streamKeepAliveMs: 10_000,
      bodyLimitBytes: 25 * 1024 * 1024,
      images: { allowPrivate: false },
    });
    expect(config.manaLlm.ollama!.numCtx).toBeUndefined();
    for (const cloud of ['openai', 'openrouter', 'groq', 'together'] as const)
      expect(config.manaLlm[cloud]).toBeUndefined();
  });

  it('should read every variable of SPEC §7', () => {
    const config = loadGatewayConfig({
      PORT: '8080',
      LOG_LEVEL: 'debug',
      OLLAMA_URL: 'http://ollama:11434',
      OLLAMA_DEFAULT_MODEL: 'hf.co/org/model:Q4_K_M',
      OLLAMA_TIMEOUT: '0.5',
      OLLAMA_NUM_CTX: '8192',
      OPENAI_API_KEY: ' sk-openai ',
      OPENROUTER_API_KEY: 'sk-or',
      GROQ_API_KEY: 'gsk_x',
      TOGETHER_API_KEY: 'tg',
      OPENAI_BASE_URL: 'http://proxy:8080/v1',
      OPENROUTER_BASE_URL: 'https://or.example/api/v1',
      GROQ_BASE_URL: 'https://groq.example/openai/v1',
      TOGETHER_BASE_URL: 'https://together.example/v1',
      PROVIDER_TIMEOUT: '2.5',
      ALIASES_PATH: '/etc/mana/aliases.yaml',
      HEALTH_PROBE_INTERVAL: '15',
      HEALTH_PROBE_TIMEOUT: '0.25',
      CIRCUIT_FAILURE_THRESHOLD: '5',
      CIRCUIT_COOLDOWN: '30',
      REDIS_URL: 'redis://redis:6379/0',
      CACHE_TTL: '60',
      CORS_ORIGINS: 'https://app.example.com, localhost ,*',
      MANA_LLM_API_KEYS: 'k1,k2',
      BODY_LIMIT: '1.5mb',
      SHUTDOWN_GRACE: '0',
      STREAM_KEEPALIVE_INTERVAL: '0.2',
      IMAGE_URL_ALLOW_PRIVATE: 'true',
    });
    expect(config).toMatchObject({
      port: 8080,
      logLevel: 'debug',
      corsOrigins: ['https://app.example.com', 'localhost', '*'],
      apiKeys: ['k1', 'k2'],
      bodyLimitBytes: Math.floor(1.5 * 1024 * 1024),
      shutdownGraceMs: 0,
      keepAliveMs: 200,
      cache: { store: 'redis', redisUrl: 'redis://redis:6379/0', ttlSeconds: 60 },
    });
    expect(config.manaLlm).toMatchObject({
      ollama: {
        baseUrl: 'http://ollama:11434',
        defaultModel: 'hf.co/org/model:Q4_K_M',
        timeoutMs: 500,
        numCtx: 8192,
      },
      openai: { apiKey: 'sk-openai', baseUrl: 'http://proxy:8080/v1' },
      openrouter: { apiKey: 'sk-or', baseUrl: 'https://or.example/api/v1' },
      groq: { apiKey: 'gsk_x', baseUrl: 'https://groq.example/openai/v1' },
      together: { apiKey: 'tg', baseUrl: 'https://together.example/v1' },
      providerTimeoutMs: 2500,
      aliases: { path: '/etc/mana/aliases.yaml', required: true },
      breaker: { failureThreshold: 5, cooldownMs: 30_000 },
      probe: { intervalMs: 15_000, timeoutMs: 250 },
      streamKeepAliveMs: 200,
      images: { allowPrivate: true },
    });
  });

  it('should treat empty strings as unset', () => {
    const config = loadGatewayConfig({ PORT: '', OPENAI_API_KEY: '', OLLAMA_TIMEOUT: '' });
    expect(config.port).toBe(3025);
    expect(config.manaLlm.openai).toBeUndefined();
    expect(config.manaLlm.ollama!.timeoutMs).toBe(120_000);
  });

  it('should use the in-process cache for CACHE_STORE=memory', () => {
    expect(loadGatewayConfig({ CACHE_STORE: 'memory' }).cache.store).toBe('memory');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['LOG_LEVEL', 'verbose'],
    ['OLLAMA_URL', 'localhost:11434'],
    ['OLLAMA_URL', 'ftp://ollama'],
    ['OLLAMA_DEFAULT_MODEL', 'gemma 3'],
    ['OLLAMA_TIMEOUT', '0'],
    ['OLLAMA_TIMEOUT', '-5'],
    ['OLLAMA_TIMEOUT', '2m'],
    ['OLLAMA_NUM_CTX', '0'],
    ['OLLAMA_NUM_CTX', '4k'],
    ['OPENAI_BASE_URL', 'api.openai.com/v1'],
    ['OPENROUTER_BASE_URL', 'not a url'],
    ['GROQ_BASE_URL', 'groq'],
    ['TOGETHER_BASE_URL', 'mailto:x@y'],
    ['PROVIDER_TIMEOUT', 'soon'],
    ['HEALTH_PROBE_INTERVAL', '0'],
    ['HEALTH_PROBE_TIMEOUT', 'x'],
    ['CIRCUIT_FAILURE_THRESHOLD', '0'],
    ['CIRCUIT_FAILURE_THRESHOLD', '1.5'],
    ['CIRCUIT_COOLDOWN', '-1'],
    ['REDIS_URL', 'http://redis:6379'],
    ['CACHE_STORE', 'disk'],
    ['CACHE_TTL', 'forever'],
    ['BODY_LIMIT', '25 megabytes'],
    ['BODY_LIMIT', '0'],
    ['SHUTDOWN_GRACE', '-1'],
    ['STREAM_KEEPALIVE_INTERVAL', '0'],
    ['IMAGE_URL_ALLOW_PRIVATE', 'yes'],
  ])('should refuse %s=%p with one line naming it', (name, value) => {
    const lines = problems({ [name]: value });
    expect(lines).toHaveLength(1);
    expect(lines[0].startsWith(`${name}: `)).toBe(true);
    expect(lines[0]).toContain(`(got ${JSON.stringify(value)})`);
  });

  it('should report every bad variable at once, one line each', () => {
    const lines = problems({ PORT: 'abc', OLLAMA_TIMEOUT: '-1', LOG_LEVEL: 'loud' });
    expect(lines.map((l) => l.split(':')[0]).sort()).toEqual(['LOG_LEVEL', 'OLLAMA_TIMEOUT', 'PORT']);
  });

  it('should say what kind of value is expected instead of every range check when the type is wrong', () => {
    expect(problems({ PORT: 'abc' })).toEqual(['PORT: PORT must be an integer number (got "abc")']);
    expect(problems({ PORT: '70000' })).toEqual(['PORT: PORT must not be greater than 65535 (got "70000")']);
  });

  it('should refuse CACHE_STORE=redis without REDIS_URL, naming REDIS_URL', () => {
    const lines = problems({ CACHE_STORE: 'redis' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^REDIS_URL: .*required when CACHE_STORE=redis/);
  });

  it('should never echo a secret in a boot error', () => {
    const lines = problems({ REDIS_URL: 'http://:hunter2@redis:6379' });
    expect(lines[0]).toBe(
      'REDIS_URL: REDIS_URL must be a redis:// or rediss:// URL (required when CACHE_STORE=redis) (got "http://***@redis:6379")',
    );
    expect(lines.join('\n')).not.toContain('hunter2');
  });
});

describe(parseSize.name, () => {
  it.each([
    ['1048576', 1048576],
    ['512kb', 512 * 1024],
    ['25mb', 25 * 1024 * 1024],
    ['25MB', 25 * 1024 * 1024],
    ['1 gb', 1024 ** 3],
    ['0.5kb', 512],
    ['10b', 10],
  ])('should read %p as %i bytes', (value, bytes) => {
    expect(parseSize(value)).toBe(bytes);
  });

  it('should throw for something that is not a size', () => {
    expect(() => parseSize('lots')).toThrow(ConfigValidationError);
  });
});
