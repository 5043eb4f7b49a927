/**
 * The live feed's connection state, as a pure reducer with the clock passed in, so the backoff
 * schedule and the countdown are tested without timers. The shell (live/feed.ts) owns the
 * EventSource and the timer and feeds events here.
 */

export const INITIAL_RECONNECT_MS = 1000;
export const MAX_RECONNECT_MS = 30_000;

/** 1 s, 2 s, 4 s, … capped at 30 s: a restarted dashboard is found quickly, a dead one is not hammered. */
export function backoffDelay(attempt: number): number {
  return Math.min(INITIAL_RECONNECT_MS * 2 ** Math.max(0, attempt), MAX_RECONNECT_MS);
}

export type ConnectionState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open'; sinceMs: number }
  | { kind: 'waiting'; attempt: number; retryAtMs: number; lastError: string }
  | { kind: 'closed' };

export type ConnectionEvent =
  | { type: 'open'; nowMs: number }
  | { type: 'error'; nowMs: number; reason: string }
  | { type: 'retry-due' }
  | { type: 'retry-now' }
  | { type: 'close' };

export const initialConnection: ConnectionState = { kind: 'connecting', attempt: 0 };

export function nextConnection(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  if (state.kind === 'closed') return state;
  switch (event.type) {
    case 'open':
      return { kind: 'open', sinceMs: event.nowMs };
    case 'error': {
      // An error while open starts the schedule afresh; an error while connecting moves one step up.
      const attempt = state.kind === 'connecting' ? state.attempt : state.kind === 'waiting' ? state.attempt : 0;
      return { kind: 'waiting', attempt: attempt + 1, retryAtMs: event.nowMs + backoffDelay(attempt), lastError: event.reason };
    }
    case 'retry-due':
      return state.kind === 'waiting' ? { kind: 'connecting', attempt: state.attempt } : state;
    case 'retry-now':
      return state.kind === 'open' ? state : { kind: 'connecting', attempt: 0 };
    case 'close':
      return { kind: 'closed' };
  }
}

/** Whole seconds left before the next attempt, for the "reconnecting in Ns" countdown. */
export function secondsUntilRetry(state: ConnectionState, nowMs: number): number | null {
  if (state.kind !== 'waiting') return null;
  return Math.max(0, Math.ceil((state.retryAtMs - nowMs) / 1000));
}
