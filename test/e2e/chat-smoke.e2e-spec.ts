import OpenAI from 'openai';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, ndjsonLines, sseEvents } from '../support/fixtures';
import { startGateway, RunningGateway } from '../support/gateway';
import { rawRequest, sseChunks } from '../support/sse-client';

describe('chat smoke', () => {
  let ollama: FakeUpstream;
  let groq: FakeUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    ollama = await FakeUpstream.start();
    groq = await FakeUpstream.start();
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      GROQ_API_KEY: 'gsk_testkey123456',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
    });
  });
  afterAll(async () => {
    await gateway.close();
    await ollama.close();
    await groq.close();
  });

  it('should stream an Ollama NDJSON answer as OpenAI SSE', async () => {
    ollama.on('POST', '/api/chat', {
      headers: { 'content-type': 'application/x-ndjson' },
      pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
    });
    const res = await rawRequest(`${gateway.url}/v1/chat/completions`, {
      body: {
        model: 'ollama/gemma3:1b',
        stream: true,
        messages: [{ role: 'user', content: 'Count from 1 to 5' }],
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-mana-llm-resolved']).toBe('ollama/gemma3:1b');
    const chunks = sseChunks<{
      model: string;
      choices: { delta: { content?: string }; finish_reason: string | null }[];
    }>(res.body);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Okay, here we go!\n\n1, 2, 3, 4, 5\n');
    expect(res.body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('should answer through the openai client from a Groq SSE stream', async () => {
    groq.on('POST', '/openai/v1/chat/completions', {
      headers: { 'content-type': 'text/event-stream' },
      pieces: sseEvents(fixture('groq/chat_stream_usage_in_x_groq_only.response.sse')),
    });
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'caller-key' });
    const stream = await client.chat.completions.create({
      model: 'groq/deepseek-r1-distill-llama-70b',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    let usage;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage?.total_tokens).toBe(1009);
    expect(groq.requests[0].headers.authorization).toBe('Bearer gsk_testkey123456');
  });
});
