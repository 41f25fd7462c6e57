import { SecretScrubber } from './secret-scrubber';

describe(SecretScrubber.name, () => {
  it('should remove configured secrets by value when they appear anywhere in a line', () => {
    const scrubber = new SecretScrubber();
    scrubber.setSecrets(['tgp_v1_abcdef0123456789', 'redis-pass-42']);
    expect(scrubber.scrub('{"msg":"key tgp_v1_abcdef0123456789 and redis-pass-42@host"}')).toBe(
      '{"msg":"key [redacted] and [redacted]@host"}',
    );
  });

  it('should remove key-shaped strings and bearer tokens when no secret is configured', () => {
    const scrubber = new SecretScrubber();
    expect(scrubber.scrub('sk-proj-AbCdEf123456 gsk_ABCDEF123456 Bearer caller.token-123')).toBe(
      '[redacted] [redacted] [redacted]',
    );
  });

  it('should leave ordinary text and too short values alone when scrubbing', () => {
    const scrubber = new SecretScrubber();
    scrubber.setSecrets(['abc', '']);
    const line = '{"msg":"risk-assessment of task-manager abc"}';
    expect(scrubber.scrub(line)).toBe(line);
  });

  it('should treat regex characters in a secret literally when it is configured', () => {
    const scrubber = new SecretScrubber();
    scrubber.setSecrets(['a+b*c?(d)[e]']);
    expect(scrubber.scrub('x a+b*c?(d)[e] y aaabbbcd')).toBe('x [redacted] y aaabbbcd');
  });
});
