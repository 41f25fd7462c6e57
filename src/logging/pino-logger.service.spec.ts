import { Logger } from '@nestjs/common';
import { createPinoLogger } from './create-pino-logger';
import { LogCapture } from './log-capture';
import { PinoLoggerService } from './pino-logger.service';
import { SecretScrubber } from './secret-scrubber';

describe(PinoLoggerService.name, () => {
  let capture: LogCapture;
  let scrubber: SecretScrubber;
  let service: PinoLoggerService;

  beforeEach(() => {
    capture = new LogCapture();
    scrubber = new SecretScrubber();
    service = new PinoLoggerService(createPinoLogger({ level: 'info', scrubber, destination: capture }));
  });

  it('should write a JSON line with level name, context and message when Nest logs a string', () => {
    service.log('listening', 'Bootstrap');
    expect(capture.lines).toEqual([
      expect.objectContaining({ level: 'info', context: 'Bootstrap', msg: 'listening', name: 'mana-llm' }),
    ]);
    expect(typeof capture.lines[0].time).toBe('string');
  });

  it('should spread an object message into the line when one is logged', () => {
    service.warn({ msg: '/v1/chat/completions 502', status: 502, requestId: 'r1' }, 'Request');
    expect(capture.lines[0]).toMatchObject({
      level: 'warn',
      context: 'Request',
      status: 502,
      requestId: 'r1',
    });
  });

  it('should keep the stack apart from the context when Nest logs an error', () => {
    service.error('failed', 'Error: x\n    at y (z.ts:1:1)', 'Errors');
    expect(capture.lines[0]).toMatchObject({ level: 'error', context: 'Errors', msg: 'failed' });
    expect(capture.lines[0].stack).toContain('at y');
  });

  it('should write nothing when the level is below the configured one', () => {
    service.debug('hidden', 'X');
    service.verbose('hidden', 'X');
    service.setLevel('debug');
    service.debug('shown', 'X');
    expect(capture.lines.map((l) => l.msg)).toEqual(['shown']);
  });

  it('should apply a new level to contexts already used when the level changes', () => {
    service.log('one', 'Ctx');
    service.setLogLevels(['error', 'fatal']);
    service.log('two', 'Ctx');
    service.error('three', 'Ctx');
    expect(capture.lines.map((l) => l.msg)).toEqual(['one', 'three']);
  });

  it('should redact credentials and contents by path when an object carries them', () => {
    service.log(
      { msg: 'x', headers: { authorization: 'Bearer abc' }, messages: [{ content: 'secret' }] },
      'C',
    );
    const line = capture.raw[0];
    expect(line).not.toContain('abc');
    expect(line).not.toContain('secret');
    expect(capture.lines[0].messages).toBe('[redacted]');
  });

  it('should scrub configured secrets from every line when they show up in a message', () => {
    scrubber.setSecrets(['tgp_v1_supersecretvalue']);
    service.warn('upstream said: invalid key tgp_v1_supersecretvalue', 'ProviderHealth');
    expect(capture.raw[0]).not.toContain('supersecret');
    expect(capture.lines[0].msg).toBe('upstream said: invalid key [redacted]');
  });

  it('should receive the calls of a Nest Logger when it is the app logger', () => {
    Logger.overrideLogger(service);
    try {
      new Logger('Request').log({ msg: 'line', status: 200 });
      new Logger('Errors').error('bad');
    } finally {
      Logger.overrideLogger(false);
    }
    expect(capture.lines).toEqual([
      expect.objectContaining({ context: 'Request', status: 200, level: 'info' }),
      expect.objectContaining({ context: 'Errors', msg: 'bad', level: 'error' }),
    ]);
  });
});
