import { Logger } from '@nestjs/common';
import { createPinoLogger } from '../../logging/create-pino-logger';
import { LogCapture } from '../../logging/log-capture';
import { PinoLoggerService } from '../../logging/pino-logger.service';
import { SecretScrubber } from '../../logging/secret-scrubber';
import { LlmTelemetry } from './llm-telemetry';
import { FinishedRequest, LlmMetrics, NoopLlmMetrics } from './llm-metrics';
import { RequestLog } from './request-log';

describe(RequestLog.name, () => {
  let capture: LogCapture;

  beforeEach(() => {
    capture = new LogCapture();
    const scrubber = new SecretScrubber();
    Logger.overrideLogger(
      new PinoLoggerService(createPinoLogger({ level: 'info', scrubber, destination: capture })),
    );
  });

  const event: FinishedRequest = {
    endpoint: '/v1/chat/completions',
    model: 'ollama/gemma3:4b',
    provider: 'ollama',
    status: 200,
    app: 'notes',
    stream: true,
    durationSeconds: 1.23456,
    requestId: 'req-1',
    requestedModel: 'mana/fast-text',
    promptTokens: 16,
    completionTokens: 22,
    cache: 'miss',
    attempts: [{ model: 'groq/llama-3.1-8b-instant', reason: 'UpstreamRateLimitError' }],
  };

  it('should write one info line with every request field when a request succeeded', () => {
    new RequestLog().write(event);
    expect(capture.context('Request')).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: '/v1/chat/completions 200',
        requestId: 'req-1',
        endpoint: '/v1/chat/completions',
        app: 'notes',
        model: 'mana/fast-text',
        resolved: 'ollama/gemma3:4b',
        provider: 'ollama',
        status: 200,
        stream: true,
        durationMs: 1234.6,
        promptTokens: 16,
        completionTokens: 22,
        cache: 'miss',
        attempts: [{ model: 'groq/llama-3.1-8b-instant', reason: 'UpstreamRateLimitError' }],
      }),
    ]);
  });

  it('should warn and name the error class without fields it does not know when a request failed', () => {
    new RequestLog().write({
      endpoint: '/v1/embeddings',
      model: 'none',
      provider: 'none',
      status: 503,
      app: 'unknown',
      stream: false,
      durationSeconds: 0.01,
      error: 'AllProvidersFailedError',
    });
    const [line] = capture.context('Request');
    expect(line).toMatchObject({ level: 'warn', status: 503, error: 'AllProvidersFailedError' });
    expect(Object.keys(line)).not.toEqual(expect.arrayContaining(['promptTokens', 'cache', 'attempts']));
  });

  it('should cut a huge requested model string when it is logged', () => {
    new RequestLog().write({ ...event, requestedModel: 'x'.repeat(10_000) });
    expect((capture.context('Request')[0].model as string).length).toBe(200);
  });

  it('should feed the metrics and the log from one call when used through LlmTelemetry', () => {
    const seen: FinishedRequest[] = [];
    const metrics: LlmMetrics = Object.assign(new NoopLlmMetrics(), {
      requestFinished: (e: FinishedRequest) => void seen.push(e),
    });
    new LlmTelemetry(metrics, new RequestLog()).requestFinished(event);
    expect(seen).toEqual([event]);
    expect(capture.context('Request')).toHaveLength(1);
  });
});
