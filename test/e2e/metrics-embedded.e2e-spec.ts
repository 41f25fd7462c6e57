import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { AddressInfo } from 'node:net';
import { register } from 'prom-client';
import { ManaLlmClient, ManaLlmModule } from '../../src';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture } from '../support/fixtures';
import { Scrape } from '../support/metrics-text';
import { rawRequest } from '../support/sse-client';

async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

describe('metrics when mana-llm is embedded in a host app', () => {
  let ollama: FakeUpstream;

  beforeAll(async () => {
    ollama = await FakeUpstream.start();
    ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
  });
  afterAll(() => ollama.close());

  it("should put mana-llm's series on the host's @willsoto/nestjs-prometheus /metrics when given its registry", async () => {
    @Module({
      imports: [
        PrometheusModule.register(),
        ManaLlmModule.forRoot({
          ollama: { baseUrl: ollama.url },
          probe: { enabled: false },
          aliases: { inline: {} },
          metrics: { registry: register },
          controllers: false,
        }),
      ],
    })
    class HostModule {}
    const app = await NestFactory.create(HostModule, { logger: false });
    try {
      const url = await listen(app);
      const client = app.get(ManaLlmClient);
      const answer = await client.chat(
        { model: 'ollama/gemma3:1b', messages: [{ role: 'user', content: 'hi' }] },
        { app: 'host' },
      );
      expect(answer.model).toBe('ollama/gemma3:1b');
      // Served by @willsoto/nestjs-prometheus' own controller, from prom-client's global registry.
      const scrape = await Scrape.of(url);
      const labels = {
        endpoint: '/v1/chat/completions',
        model: 'ollama/gemma3:1b',
        provider: 'ollama',
        status: '200',
        app: 'host',
      };
      expect(scrape.value('mana_llm_requests_total', labels)).toBe(1);
      expect(
        scrape.value('mana_llm_tokens_total', { model: 'ollama/gemma3:1b', type: 'completion', app: 'host' }),
      ).toBe(298);
      expect(scrape.value('mana_llm_provider_healthy', { provider: 'ollama' })).toBe(1);
      // The host collects the default metrics; mana-llm did not register them a second time.
      expect(scrape.find('process_resident_memory_bytes')).toHaveLength(1);
    } finally {
      await app.close();
      register.clear();
    }
  });

  it('should answer 404 on /metrics and record nothing when metrics are off', async () => {
    @Module({
      imports: [
        ManaLlmModule.forRoot({
          ollama: { baseUrl: ollama.url },
          probe: { enabled: false },
          aliases: { inline: {} },
          metrics: false,
        }),
      ],
    })
    class NoMetricsModule {}
    const app = await NestFactory.create(NoMetricsModule, { logger: false, bodyParser: false });
    try {
      const url = await listen(app);
      const res = await rawRequest(`${url}/v1/chat/completions`, {
        body: { model: 'ollama/gemma3:1b', messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(res.status).toBe(200);
      const metrics = await rawRequest(`${url}/metrics`);
      expect(metrics.status).toBe(404);
      expect(JSON.parse(metrics.body)).toMatchObject({
        error: { type: 'invalid_request_error', code: 'not_found' },
      });
      expect(await register.metrics()).not.toContain('mana_llm');
    } finally {
      await app.close();
    }
  });
});
