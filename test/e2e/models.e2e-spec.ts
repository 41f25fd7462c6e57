import { resolve } from 'node:path';
import OpenAI from 'openai';
import { gatewayEnv, startFakeOllama, startFakeVendor } from '../support/chat-assertions';
import { FakeUpstream } from '../support/fake-upstream';
import { fixtureJson } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { rawRequest } from '../support/sse-client';

interface ModelObject {
  id: string;
  object: string;
  created: number;
  owned_by: string;
}

const SHIPPED_ALIASES = resolve(__dirname, '../../aliases.yaml');
const ALIAS_IDS = ['mana/fast-text', 'mana/long-form', 'mana/structured', 'mana/reasoning', 'mana/vision'];
const OLLAMA_IDS = ['ollama/smollm2:1.7b', 'ollama/mistral:7b', 'ollama/granite3.3:2b'];
const OPENAI_IDS = ['openai/gpt-4o-mini', 'openai/text-embedding-3-small', 'openai/gpt-3.5-turbo'];

describe('model catalogue', () => {
  let ollama: FakeUpstream;
  let openai: FakeUpstream;
  let openrouter: FakeUpstream;
  let groq: FakeUpstream;
  let together: FakeUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    ollama = await startFakeOllama();
    openai = await startFakeVendor('/v1', 'openai/models_list.response.json');
    openrouter = await startFakeVendor('/api/v1', 'openrouter/models_list.response.json');
    // groq is down: its port is closed before the gateway ever calls it.
    groq = await FakeUpstream.start();
    // together hangs: its listing must not hold the catalogue up for longer than the short timeout.
    together = await FakeUpstream.start();
    together.on('GET', '/v1/models', { hang: true });
    const env = gatewayEnv({ ollama, openai, openrouter, groq, together });
    await groq.close();
    gateway = await startGateway({ ...env, ALIASES_PATH: SHIPPED_ALIASES, HEALTH_PROBE_TIMEOUT: '1.5' });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all([ollama, openai, openrouter, together].map((f) => f.close()));
  });

  it('should list aliases, Ollama tags and cloud models, leaving out the providers that are down', async () => {
    const started = Date.now();
    const res = await rawRequest(`${gateway.url}/v1/models`);
    // Bounded by the short listing timeout (1.5 s here: 0.3 s timed Ollama's listing out on a loaded
    // CI run), not by PROVIDER_TIMEOUT (60 s).
    expect(Date.now() - started).toBeLessThan(5000);
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { object: string; data: ModelObject[] };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual([
      ...ALIAS_IDS,
      ...OLLAMA_IDS,
      ...OPENAI_IDS,
      'openrouter/openai/gpt-4',
    ]);
    for (const m of body.data) expect(m.object).toBe('model');
    expect(body.data.filter((m) => m.owned_by === 'mana').map((m) => m.id)).toEqual(ALIAS_IDS);
    expect(body.data.find((m) => m.id === 'ollama/mistral:7b')).toEqual({
      id: 'ollama/mistral:7b',
      object: 'model',
      created: Math.floor(Date.parse('2025-08-03T21:16:38.8638638+02:00') / 1000),
      owned_by: 'ollama',
    });
    expect(body.data.find((m) => m.id === 'openai/gpt-4o-mini')).toEqual({
      id: 'openai/gpt-4o-mini',
      object: 'model',
      created: 1721172741,
      owned_by: 'openai',
    });
    expect(body.data.some((m) => m.id.startsWith('groq/') || m.id.startsWith('together/'))).toBe(false);
    expect(together.calls('/v1/models').length).toBeGreaterThanOrEqual(1);
  });

  it('should serve the catalogue from its cache within a minute', async () => {
    await rawRequest(`${gateway.url}/v1/models`);
    const before = [ollama.calls('/api/tags').length, openai.calls('/v1/models').length];
    const res = await rawRequest(`${gateway.url}/v1/models`);
    expect(res.status).toBe(200);
    expect([ollama.calls('/api/tags').length, openai.calls('/v1/models').length]).toEqual(before);
  });

  it('should answer one model by an id with slashes and colons, raw or %2F-encoded', async () => {
    const raw = await rawRequest(`${gateway.url}/v1/models/ollama/granite3.3:2b`);
    expect(raw.status).toBe(200);
    expect(JSON.parse(raw.body)).toEqual({
      id: 'ollama/granite3.3:2b',
      object: 'model',
      created: Math.floor(Date.parse('2025-08-03T20:54:11.3482609+02:00') / 1000),
      owned_by: 'ollama',
    });
    const encoded = await rawRequest(`${gateway.url}/v1/models/ollama%2Fgranite3.3:2b`);
    expect(encoded.status).toBe(200);
    expect(JSON.parse(encoded.body)).toEqual(JSON.parse(raw.body));
    const nested = await rawRequest(`${gateway.url}/v1/models/openrouter/openai/gpt-4`);
    expect(JSON.parse(nested.body)).toMatchObject({ id: 'openrouter/openai/gpt-4', owned_by: 'openrouter' });
    const alias = await rawRequest(`${gateway.url}/v1/models/mana%2Fvision`);
    expect(JSON.parse(alias.body)).toMatchObject({ id: 'mana/vision', object: 'model', owned_by: 'mana' });
  });

  it('should answer 404 in the OpenAI shape for an unknown model or alias', async () => {
    for (const id of ['ollama/nope:1b', 'mana/nope', 'openai/gpt-nope', 'openrouter/x/y:free']) {
      const res = await rawRequest(`${gateway.url}/v1/models/${id}`);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body)).toEqual({
        error: {
          message: `The model '${id}' does not exist`,
          type: 'invalid_request_error',
          code: 'model_not_found',
          param: 'model',
        },
      });
    }
  });

  it('should answer the listing failure, not a 404, for a model of a provider that is down', async () => {
    const res = await rawRequest(`${gateway.url}/v1/models/groq/llama-3.1-8b-instant`);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).error).toMatchObject({
      type: 'upstream_error',
      code: 'upstream_unreachable',
    });
  });

  it('should work with the official client (list pages and retrieve)', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'caller-key', maxRetries: 0 });
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain('openrouter/openai/gpt-4');
    expect(ids).toContain('mana/fast-text');
    const model = await client.models.retrieve('openai/text-embedding-3-small');
    expect(model).toMatchObject({ id: 'openai/text-embedding-3-small', created: 1705948997 });
    await expect(client.models.retrieve('mana/missing')).rejects.toMatchObject({ status: 404 });
    const fixtureIds = fixtureJson<{ data: { id: string }[] }>('openai/models_list.response.json').data;
    expect(fixtureIds.map((m) => `openai/${m.id}`)).toEqual(OPENAI_IDS);
  });
});
