import { pino, type Logger, type DestinationStream } from 'pino';
import { LogDestination } from './destination.js';

export type { Logger };

/**
 * Structured JSON logs. Secrets never reach a log line because callers log route names,
 * statuses and durations, never headers or bodies (tests scan every log line for keys).
 * pino's redaction is left off on purpose: it costs more than the rest of an access line.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: undefined }, destination ?? new LogDestination());
}

/**
 * Ends the logger's destination once everything it holds is written, for a process about to
 * exit. pino's own flush() returns at once for an asynchronous destination, so a process that
 * exits on it can lose its last batch of lines; the destination's `end()` writes them all and
 * then says `close`. A reader that never reads must not keep the process alive: after
 * `timeoutMs` it resolves anyway.
 */
export function closeLog(log: Logger, timeoutMs = 5_000): Promise<void> {
  const dest = (log as unknown as Record<symbol, { end?(): void; once?(event: string, fn: () => void): void } | undefined>)[pino.symbols.streamSym];
  return new Promise((resolve) => {
    if (typeof dest?.end !== 'function' || typeof dest.once !== 'function') return resolve();
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    dest.once('close', done);
    dest.once('error', done);
    try {
      dest.end();
    } catch {
      done();
    }
  });
}
