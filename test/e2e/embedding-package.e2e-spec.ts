import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, ndjsonLines } from '../support/fixtures';
import { rawRequest } from '../support/sse-client';

const ROOT = resolve(__dirname, '../..');
const EXAMPLE = resolve(ROOT, 'examples/nest-consumer');

/** Compiles the example app against mana-llm's build output (dist/, via a node_modules link). */
function compileExample(): void {
  const link = resolve(EXAMPLE, 'node_modules/mana-llm');
  if (!existsSync(link)) {
    mkdirSync(resolve(EXAMPLE, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, link, 'dir');
  }
  rmSync(resolve(EXAMPLE, 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], {
    cwd: EXAMPLE,
    stdio: 'pipe',
    timeout: 120_000,
  });
}

function boot(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: EXAMPLE,
      env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`example did not start: ${out}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ child, url: m[1].replace('[::1]', '127.0.0.1') });
      }
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`example exited with ${code}: ${out}`)));
  });
}

describe('the mana-llm package embedded in a Nest app (examples/nest-consumer, built output)', () => {
  let ollama: FakeUpstream;
  let groq: FakeUpstream;
  let app: { child: ChildProcess; url: string };

  beforeAll(async () => {
    compileExample();
    ollama = await FakeUpstream.start();
    groq = await FakeUpstream.start();
    app = await boot({
      OLLAMA_URL: ollama.url,
      GROQ_API_KEY: 'gsk_example_key',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
    });
  }, 120_000);

  afterAll(async () => {
    app?.child.kill('SIGTERM');
    await ollama?.close();
    await groq?.close();
  });

  it('should answer a chat through an alias that falls back from a failing Groq to Ollama', async () => {
    groq.on('POST', '/openai/v1/chat/completions', {
      status: 500,
      body: fixture('openai/error_500_server_error.json'),
    });
    ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
    const res = await rawRequest(`${app.url}/summarize`, { body: { text: 'why is the sky blue' } });
    expect(res.status).toBe(201);
    const body = JSON.parse(res.body) as { summary: string; model: string };
    expect(body.model).toBe('ollama/gemma3:4b');
    expect(body.summary).toBe(JSON.parse(fixture('ollama/chat_nonstream.response.json')).message.content);
    expect(groq.calls('/openai/v1/chat/completions')).toHaveLength(1);
    expect(ollama.calls('/api/chat')[0].json<{ model: string }>().model).toBe('gemma3:4b');
  });

  it('should abort the upstream stream when the consumer unsubscribes after two chunks', async () => {
    ollama.on('POST', '/api/chat', {
      headers: { 'content-type': 'application/x-ndjson' },
      pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
      delayMs: 50,
    });
    const res = await rawRequest(`${app.url}/first-chunks`, { body: { prompt: 'count', n: 2 } });
    expect(JSON.parse(res.body)).toEqual({ chunks: ['Okay', ','] });
    await ollama.waitForAborts(1);
  });

  it('should embed through the client', async () => {
    ollama.on('POST', '/api/embed', { body: fixture('ollama/embed_multi.response.json') });
    const res = await rawRequest(`${app.url}/embed`, { body: { texts: ['a', 'b'] } });
    const expected = JSON.parse(fixture('ollama/embed_multi.response.json')).embeddings;
    expect(JSON.parse(res.body).vectors).toEqual(expected);
  });
});

describe('two ManaLlmModule instances in two apps (built output)', () => {
  it('should not share options or breaker state', async () => {
    // Loaded from dist/, as a consumer would: `require('mana-llm')` resolves there.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built package, as a consumer loads it
    const pkg = require(ROOT) as typeof import('../../src/index');
    const { NestFactory } = await import('@nestjs/core');
    const a = await FakeUpstream.start();
    const b = await FakeUpstream.start();
    a.on('POST', '/api/chat', { status: 500, body: { error: 'gpu on fire' } });
    b.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
    const make = (baseUrl: string, aliases: Record<string, { chain: string[] }>) =>
      NestFactory.createApplicationContext(
        pkg.ManaLlmModule.forRoot({
          ollama: { baseUrl },
          breaker: { failureThreshold: 1, cooldownMs: 60_000 },
          probe: { enabled: false },
          aliases: { inline: aliases },
          controllers: false,
        }),
        { logger: false },
      );
    const appA = await make(a.url, { 'mana/only-in-a': { chain: ['ollama/llama3.2'] } });
    const appB = await make(b.url, {});
    try {
      const clientA = appA.get(pkg.ManaLlmClient);
      const clientB = appB.get(pkg.ManaLlmClient);
      const request = { model: 'ollama/llama3.2', messages: [{ role: 'user' as const, content: 'hi' }] };
      expect(clientA.aliases()).toEqual([
        { id: 'mana/only-in-a', description: '', chain: ['ollama/llama3.2'], resolves_to: 'ollama/llama3.2' },
      ]);
      expect(clientB.aliases()).toEqual([]);

      await expect(clientA.chat(request)).rejects.toMatchObject({ name: 'UpstreamServerError', status: 502 });
      // A's breaker is now open: the next call is skipped without reaching A's upstream.
      await expect(clientA.chat(request)).rejects.toMatchObject({
        name: 'AllProvidersFailedError',
        attempts: [{ model: 'ollama/llama3.2', reason: 'cache-unhealthy' }],
      });
      expect(a.calls('/api/chat')).toHaveLength(1);

      // B has its own options and its own healthy breaker.
      const answer = await clientB.chat(request);
      expect(answer.model).toBe('ollama/llama3.2');
      expect(answer.choices[0].message.content).toBe('Hello! How are you today?');
      expect(b.calls('/api/chat')).toHaveLength(1);
    } finally {
      await appA.close();
      await appB.close();
      await a.close();
      await b.close();
    }
  });
});
