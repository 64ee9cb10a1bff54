// Structured logging with pino. Every line passes the secret scrubber before it is written.
import { pino, type Logger } from 'pino';
import { scrub } from './secrets.ts';

export type { Logger };

const REDACT_PATHS = [
  '*.accessKeySecret',
  '*.AccessKeySecret',
  '*.secret',
  '*.token',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
  '*.clientSecret',
  '*.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  '*.data',
];

export function createLogger(
  level: string,
  destination: pino.DestinationStream = pino.destination({ sync: false }),
): Logger {
  return pino(
    {
      level,
      base: { service: 'backup-setup-bot' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: { streamWrite: (line) => scrub(line) },
    },
    destination,
  );
}
