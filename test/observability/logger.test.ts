import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { registerSecret, scrub } from '../../src/observability/secrets.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('logging never writes a secret', () => {
  it('redacts secret-named fields', () => {
    const { lines, logger } = capture();
    logger.info({ config: { botToken: 'xoxb-123-456-abcdefghij', signingSecret: 'abc' }, key: { AccessKeySecret: 'sk-1' } }, 'started');
    expect(lines.join('')).not.toMatch(/xoxb-123|"abc"|sk-1/);
    expect(lines.join('')).toContain('[REDACTED]');
  });

  it('scrubs registered secret values anywhere in a line, even inside messages and errors', () => {
    const { lines, logger } = capture();
    registerSecret('ZyXwVuTsRqPoNmLkJiHgFeDcBa0123');
    logger.error({ err: new Error('SDK said: bad key ZyXwVuTsRqPoNmLkJiHgFeDcBa0123') }, 'call failed with ZyXwVuTsRqPoNmLkJiHgFeDcBa0123');
    expect(lines.join('')).not.toContain('ZyXwVuTsRqPoNmLkJiHgFeDcBa0123');
  });

  it('scrubs Slack tokens and key=value secrets by shape', () => {
    // Assembled here so no committed line looks like a real token to secret scanners.
    const botToken = ['xoxb', '1111111111', '2222222222', 'abc'].join('-');
    expect(scrub(`token ${botToken} and xapp-1-A0-123456789012`)).toBe('token [REDACTED] and [REDACTED]');
    expect(scrub('{"access-key-secret":"s3cr3t-value"}')).toBe('{"access-key-secret":"[REDACTED]"}');
    expect(scrub('AccessKeySecret=abc123def')).toBe('AccessKeySecret=[REDACTED]');
  });
});
