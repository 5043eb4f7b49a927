import type { Logger } from '../log/logger.js';
import type { Clock } from './clock.js';
import { deleteLimits, loadLimits, type PersistedLimits, saveLimits } from './state-file.js';

/**
 * The learned limits on disk (RATE_LIMIT_STATE_FILE), for one proxy without Redis: loaded at
 * start, written when the proven ceiling moves and at close, deleted by a reset. Writes are
 * queued one after another and never throw into admission; failures are logged.
 */
export class LearnedState {
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly maxAgeMs: number,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /** The persisted limits when they are fresh and sensible; otherwise undefined (and why, logged). */
  async load(): Promise<PersistedLimits | undefined> {
    const loaded = await loadLimits(this.path, this.clock.now(), this.maxAgeMs).catch(() => undefined);
    if (loaded && !loaded.state && loaded.reason !== 'missing') this.log.warn({ reason: loaded.reason }, 'limiter: ignoring persisted limits');
    return loaded?.state;
  }

  /** Persists a proven ceiling (held at `holdMargin` under it) and the in-flight limit. */
  save(ceiling: number, holdMargin: number, concurrencyLimit: number): void {
    const state = { ceiling, rate: ceiling * (1 - holdMargin), concurrencyLimit, savedAtMs: this.clock.now() };
    this.saving = this.saving
      .then(() => saveLimits(this.path, state))
      .catch((err: unknown) => this.log.warn({ err: errMessage(err) }, 'limiter: failed to persist learned limits'));
  }

  forget(): void {
    this.saving = this.saving
      .then(() => deleteLimits(this.path))
      .catch((err: unknown) => this.log.warn({ err: errMessage(err) }, 'limiter: could not delete state file'));
  }

  /** Resolves once every queued write has finished. */
  flushed(): Promise<void> {
    return this.saving;
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
