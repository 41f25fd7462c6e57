import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream } from '../support/fake-upstream';
import { RunningGateway, startGateway } from '../support/gateway';
import { FIXED_PATHS, fixtureOllama, fixtureVendor, openAiError } from './hardening.harness';

/**
 * Thousands of random and adversarial bodies against /v1/chat/completions and /v1/embeddings: the
 * gateway answers every one below 500, every 4xx in the OpenAI error shape, never crashes, and no
 * model id ever changes the path of an upstream request (the fakes see only their fixed API paths).
 * Valid-looking bodies reach the fakes, which answer fixture responses: those are 200s.
 */

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

const PROVIDERS = ['ollama', 'openai', 'openrouter', 'groq', 'together', 'mana', 'hf.co', 'library', ''];
const VALID_MODELS = [
  'ollama/gemma3:4b',
  'gemma3:4b',
  'hf.co/org/model:Q4_K_M',
  'groq/llama-3.1-8b-instant',
  'openai/gpt-4o-mini',
  'openrouter/meta-llama/llama-3.1-8b-instruct',
  'together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo',
  'mana/fast-text',
  'mana/no-such-alias',
];
const HOSTILE_FRAGMENTS = [
  '../',
  '..',
  '/..',
  '%2e%2e%2f',
  '%2F',
  '?',
  '?x=1',
  '#',
  '#frag',
  ' ',
  '\t',
  '\r\n',
  '\u0000',
  '\u001f',
  '\u007f',
  '\\..\\',
  'api/pull',
  '/v1/../admin',
  '\u202e',
  '\u00e9',
  '\ud83d\ude00',
  '\ud800',
  '__proto__',
  'constructor',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
const CHAT_KEYS = [
  'model',
  'messages',
  'stream',
  'stream_options',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'seed',
  'n',
  'tools',
  'tool_choice',
  'response_format',
  'user',
  'options',
  'keep_alive',
  'think',
  'reasoning_effort',
  'format',
];
const EMBEDDING_KEYS = ['model', 'input', 'encoding_format', 'dimensions', 'user', 'options', 'keep_alive'];
const IMAGE_URLS = [
  'data:image/png;base64,iVBORw0KGgo=',
  'data:image/png;base64,',
  'data:,',
  'data:text/plain;base64,aGk=',
  'http://127.0.0.1:1/x.png',
  'http://10.0.0.1/x.png',
  'https://[::1]/a.png',
  'http://169.254.169.254/latest/meta-data/',
  'javascript:alert(1)',
  '../../etc/passwd',
  'file:///etc/passwd',
  '',
];

/** A value's JSON text; `undefined` (which JSON cannot carry) becomes null. */
const text = (value: unknown): string => JSON.stringify(value) ?? 'null';
/** An object's JSON text from entries, so `__proto__` stays a real key in the text. */
const objectText = (entries: [string, string][]): string =>
  '{' + entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',') + '}';

const nesting = (depth: number, kind: 'array' | 'object'): string =>
  kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

const hugeString = fc.integer({ min: 10_000, max: 60_000 }).map((n) => 'x'.repeat(n));
const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom(...HOSTILE_FRAGMENTS) }),
);
const anyValue = fc.oneof(
  { weight: 8, arbitrary: fc.anything({ maxDepth: 3 }) },
  { weight: 1, arbitrary: hugeString },
  { weight: 2, arbitrary: anyText },
);

/** Model ids: valid ones, provider prefixes with hostile tails, very long names, wrong types. */
const modelText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...VALID_MODELS).map(text) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...PROVIDERS),
        fc.array(fc.oneof(fc.constantFrom(...HOSTILE_FRAGMENTS), fc.string({ maxLength: 6 })), {
          maxLength: 6,
        }),
      )
      .map(([p, parts]) => text((p ? `${p}/` : '') + parts.join(''))),
  },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 20_000 }).map((n) => text(`ollama/${'a'.repeat(n)}`)) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }).map(text) },
);

const contentPart = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.oneof(anyText, fc.anything({ maxDepth: 1 })) }),
  fc.record({
    type: fc.constant('image_url'),
    image_url: fc.oneof(fc.record({ url: fc.constantFrom(...IMAGE_URLS) }), fc.anything({ maxDepth: 1 })),
  }),
  fc.anything({ maxDepth: 2 }),
);
const toolCall = fc.record({
  id: fc.oneof(fc.string(), fc.anything({ maxDepth: 1 })),
  type: fc.constant('function'),
  function: fc.record({
    name: fc.oneof(fc.string(), fc.integer()),
    arguments: fc.oneof(fc.constant('{"a":1}'), fc.string(), fc.anything({ maxDepth: 1 })),
  }),
});
const message = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      {
        role: fc.constantFrom('user', 'system', 'assistant', 'developer', 'tool'),
        content: fc.oneof(anyText, fc.array(contentPart, { maxLength: 3 })),
        name: fc.string(),
        tool_calls: fc.array(toolCall, { maxLength: 2 }),
        tool_call_id: fc.string(),
      },
      { requiredKeys: ['role', 'content'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ role: fc.anything({ maxDepth: 1 }), content: anyValue }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
);
const messagesText = fc.oneof(
  { weight: 6, arbitrary: fc.array(message, { minLength: 1, maxLength: 4 }).map(text) },
  { weight: 1, arbitrary: anyValue.map(text) },
);
const tools = fc.array(
  fc.record({
    type: fc.constantFrom('function', 'code', 1),
    function: fc.record(
      { name: fc.string(), parameters: fc.oneof(fc.object({ maxDepth: 2 }), fc.anything({ maxDepth: 1 })) },
      { requiredKeys: ['name'] },
    ),
  }),
  { maxLength: 2 },
);

/** Chat fields with plausible and implausible values (types wrong, out of range, huge). */
const chatField: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constant('stream'), fc.constantFrom('true', 'false', 'null', '"true"', '1', '{}')),
  fc.tuple(
    fc.constant('stream_options'),
    fc.oneof(fc.constant('{"include_usage":true}'), anyValue.map(text)),
  ),
  fc.tuple(
    fc.constantFrom('temperature', 'top_p', 'max_tokens', 'seed', 'n'),
    fc.oneof(fc.double(), fc.integer()).map(text),
  ),
  fc.tuple(fc.constant('tools'), fc.oneof(tools.map(text), anyValue.map(text))),
  fc.tuple(
    fc.constant('tool_choice'),
    fc.oneof(fc.constantFrom('"auto"', '"none"', '"required"'), anyValue.map(text)),
  ),
  fc.tuple(
    fc.constant('response_format'),
    fc.oneof(
      fc.constantFrom(
        '{"type":"json_object"}',
        '{"type":"json_schema","json_schema":{"name":"x","schema":{}}}',
      ),
      anyValue.map(text),
    ),
  ),
  fc.tuple(fc.constantFrom(...CHAT_KEYS), anyValue.map(text)),
  fc.tuple(fc.constantFrom(...PROTO_KEYS), anyValue.map(text)),
  fc.tuple(anyText, anyValue.map(text)),
);
const embeddingField: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constant('encoding_format'), fc.constantFrom('"float"', '"base64"', '"int8"', '1', 'null')),
  fc.tuple(fc.constant('dimensions'), fc.oneof(fc.double(), fc.integer()).map(text)),
  fc.tuple(fc.constantFrom(...EMBEDDING_KEYS), anyValue.map(text)),
  fc.tuple(fc.constantFrom(...PROTO_KEYS), anyValue.map(text)),
  fc.tuple(anyText, anyValue.map(text)),
);
const inputText = fc.oneof(
  { weight: 4, arbitrary: fc.oneof(anyText, fc.array(anyText, { minLength: 1, maxLength: 5 })).map(text) },
  { weight: 1, arbitrary: fc.integer({ min: 2040, max: 2100 }).map((n) => text(Array(n).fill('a'))) },
  { weight: 2, arbitrary: anyValue.map(text) },
);

/** Deep nesting in a forwarded field, in the caller's text, or in a tool's schema. */
const deepField = fc
  .tuple(
    fc.integer({ min: 20, max: 20_000 }),
    fc.constantFrom<'array' | 'object'>('array', 'object'),
    fc.constantFrom('extra', 'metadata', 'options', 'stop', 'response_format', '__proto__'),
  )
  .map(([depth, kind, key]): [string, string] => [key, nesting(depth, kind)]);

/** Bodies that are not a JSON object at all, or are cut off. */
const rawGarbage = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '',
    'null',
    '[]',
    '"str"',
    '1e999',
    '\ufeff{}',
    '{"model":',
    '{"model":"ollama/x","messages":[',
    '{',
  ),
  fc.integer({ min: 10, max: 100_000 }).map((n) => nesting(n, 'array')),
);

function bodyOf(required: [string, string][], fields: [string, string][], cut?: number): string {
  const body = objectText([...required, ...fields]);
  return cut === undefined ? body : body.slice(0, Math.floor(body.length * cut));
}

/** Valid-looking chat bodies (they reach the fakes), with fields that are valid or prototype keys. */
const plausibleChatField: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constant('stream'), fc.constantFrom('true', 'false')),
  fc.tuple(fc.constant('stream_options'), fc.constant('{"include_usage":true}')),
  fc.tuple(fc.constant('temperature'), fc.double({ min: 0, max: 2, noNaN: true }).map(text)),
  fc.tuple(fc.constant('max_tokens'), fc.integer({ min: 1, max: 1_000_000 }).map(text)),
  fc.tuple(fc.constant('user'), anyText.map(text)),
  fc.tuple(
    fc.constantFrom(...PROTO_KEYS),
    fc.oneof(fc.constant('{}'), fc.constant('{"stream":true}'), anyText.map(text)),
  ),
  fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), anyText.map(text)),
);
const plausibleChat = fc
  .tuple(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...VALID_MODELS).map(text) },
      { weight: 1, arbitrary: modelText },
    ),
    fc.array(fc.record({ role: fc.constantFrom('user', 'system'), content: anyText }), {
      minLength: 1,
      maxLength: 3,
    }),
    fc.uniqueArray(plausibleChatField, { maxLength: 3, selector: ([k]) => k }),
  )
  .map(([model, messages, fields]) =>
    bodyOf(
      [
        ['model', model],
        ['messages', text(messages)],
      ],
      fields,
    ),
  );

const chatBody = fc.oneof(
  { weight: 8, arbitrary: plausibleChat },
  {
    weight: 12,
    arbitrary: fc
      .tuple(
        modelText,
        messagesText,
        fc.array(chatField, { maxLength: 4 }),
        fc.option(deepField, { freq: 6 }),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 20 }),
      )
      .map(([model, messages, fields, deep, cut]) =>
        bodyOf(
          [
            ['model', model],
            ['messages', messages],
          ],
          deep ? [...fields, deep] : fields,
          cut ?? undefined,
        ),
      ),
  },
  { weight: 1, arbitrary: rawGarbage },
);
const embeddingBody = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...VALID_MODELS).map(text),
        fc.oneof(anyText, fc.array(anyText, { minLength: 1, maxLength: 4 })).map(text),
        fc.option(fc.tuple(fc.constant('encoding_format'), fc.constantFrom('"float"', '"base64"'))),
      )
      .map(([model, input, format]) =>
        bodyOf(
          [
            ['model', model],
            ['input', input],
          ],
          format ? [format] : [],
        ),
      ),
  },
  {
    weight: 12,
    arbitrary: fc
      .tuple(
        modelText,
        inputText,
        fc.array(embeddingField, { maxLength: 3 }),
        fc.option(deepField, { freq: 6 }),
      )
      .map(([model, input, fields, deep]) =>
        bodyOf(
          [
            ['model', model],
            ['input', input],
          ],
          deep ? [...fields, deep] : fields,
        ),
      ),
  },
  { weight: 1, arbitrary: rawGarbage },
);

describe('hostile input (property-based)', () => {
  let ollama: FakeUpstream;
  let groq: FakeUpstream;
  let openai: FakeUpstream;
  let openrouter: FakeUpstream;
  let together: FakeUpstream;
  let gateway: RunningGateway;
  let dir: string;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);

  const post = (path: string, body: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        `${gateway.url}${path}`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              contentType: res.headers['content-type'],
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  /** The property: below 500; an error is OpenAI-shaped; a success is a chat/embeddings answer. */
  const statuses = new Map<string, number>();
  const check = async (path: string, body: string) => {
    const res = await post(path, body);
    const tally = `${path} ${res.status}`;
    statuses.set(tally, (statuses.get(tally) ?? 0) + 1);
    const shown = () => `${res.status} for ${body.slice(0, 300)}: ${res.body.slice(0, 300)}`;
    if (res.status >= 500 || res.status < 200) throw new Error(`status ${shown()}`);
    if (res.status >= 400) {
      openAiError(res.contentType, res.body);
      return;
    }
    if (res.contentType?.startsWith('text/event-stream')) {
      if (!res.body.endsWith('data: [DONE]\n\n') && !res.body.includes('data: {"error":'))
        throw new Error(`unfinished stream ${shown()}`);
      return;
    }
    const parsed = JSON.parse(res.body) as { object?: string; model?: string };
    if (parsed.object !== 'chat.completion' && parsed.object !== 'list') throw new Error(`answer ${shown()}`);
    if (typeof parsed.model !== 'string' || !parsed.model.includes('/')) throw new Error(`model ${shown()}`);
  };

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    [ollama, groq, openai, openrouter, together] = await Promise.all([
      fixtureOllama(),
      fixtureVendor('/openai/v1'),
      fixtureVendor('/v1'),
      fixtureVendor('/api/v1'),
      fixtureVendor('/v1'),
    ]);
    dir = mkdtempSync(join(tmpdir(), 'mana-llm-fuzz-'));
    writeFileSync(
      join(dir, 'aliases.yaml'),
      'aliases:\n  mana/fast-text:\n    chain: [groq/llama-3.1-8b-instant, ollama/gemma3:4b]\n',
    );
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      GROQ_API_KEY: 'gsk_fuzz_key_000000',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      OPENAI_API_KEY: 'sk-fuzz-key-000000',
      OPENAI_BASE_URL: `${openai.url}/v1`,
      OPENROUTER_API_KEY: 'sk-or-fuzz-key-000000',
      OPENROUTER_BASE_URL: `${openrouter.url}/api/v1`,
      TOGETHER_API_KEY: 'tgp_v1_fuzz_key_000000',
      TOGETHER_BASE_URL: `${together.url}/v1`,
      ALIASES_PATH: join(dir, 'aliases.yaml'),
      CACHE_STORE: 'memory',
      CIRCUIT_FAILURE_THRESHOLD: '1000000',
      HEALTH_PROBE_INTERVAL: '3600',
      BODY_LIMIT: '2mb',
    });
  });
  afterAll(async () => {
    agent.destroy();
    await gateway?.close();
    await Promise.all([ollama, groq, openai, openrouter, together].map((f) => f?.close()));
    rmSync(dir, { recursive: true, force: true });
    process.off('uncaughtException', onUncaught);
  });

  it('should answer 3 000 random chat bodies below 500, errors in the OpenAI shape', async () => {
    await fc.assert(
      fc.asyncProperty(chatBody, (body) => check('/v1/chat/completions', body)),
      { numRuns: 3000 },
    );
    // Not vacuous: many bodies got through to the fakes (200), many were refused (400, 404).
    expect(statuses.get('/v1/chat/completions 200')).toBeGreaterThan(300);
    expect(statuses.get('/v1/chat/completions 400')).toBeGreaterThan(300);
    expect(statuses.get('/v1/chat/completions 404')).toBeGreaterThan(10);
    expect(ollama.calls('/api/chat').length).toBeGreaterThan(50);
  }, 240_000);

  it('should answer 1 500 random embeddings bodies below 500, errors in the OpenAI shape', async () => {
    await fc.assert(
      fc.asyncProperty(embeddingBody, (body) => check('/v1/embeddings', body)),
      { numRuns: 1500 },
    );
    expect(statuses.get('/v1/embeddings 200')).toBeGreaterThan(150);
    expect(statuses.get('/v1/embeddings 400')).toBeGreaterThan(150);
    expect(ollama.calls('/api/embed').length).toBeGreaterThan(20);
  }, 240_000);

  it('should never have let a model id change an upstream path, nor crashed', async () => {
    const seen = (fake: FakeUpstream) => new Set(fake.requests.map((r) => r.path));
    for (const path of seen(ollama)) expect(FIXED_PATHS.ollama).toContain(path);
    for (const path of seen(groq)) expect(FIXED_PATHS.groq).toContain(path);
    for (const fake of [openai, together])
      for (const path of seen(fake)) expect(FIXED_PATHS.openai).toContain(path);
    for (const path of seen(openrouter))
      expect(['/api/v1/chat/completions', '/api/v1/embeddings', '/api/v1/models']).toContain(path);
    expect(uncaught).toEqual([]);
    const live = await post(
      '/v1/chat/completions',
      '{"model":"ollama/gemma3:4b","stream":false,"messages":[{"role":"user","content":"hi"}]}',
    );
    expect(live.status).toBe(200);
  });
});
