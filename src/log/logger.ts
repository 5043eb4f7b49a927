import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Secrets never reach a log line: callers log route names, statuses and
 * durations, never headers or bodies; the redact list is a second line of defence.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['authorization', 'apiKey', 'key', 'headers.authorization', 'headers["x-api-key"]', '*.authorization', '*["x-api-key"]'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
