import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Secrets never reach a log line because callers log route names,
 * statuses and durations, never headers or bodies (tests scan every log line for keys).
 * pino's redaction is left off on purpose: it costs more than the rest of an access line.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: undefined }, destination ?? pino.destination({ fd: 1, sync: false }));
}
