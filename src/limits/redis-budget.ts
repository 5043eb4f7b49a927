import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../log/logger.js';
import type { CeilingState } from './ceiling-estimator.js';
import type { Clock } from './clock.js';
import type { ClosedWindow } from './window-account.js';

/**
 * One request budget for every replica of the proxy (the upstream limits the key, not the
 * replica). Three things live in Redis:
 *
 * - the token bucket itself, taken one token per attempt by a Lua script timed by Redis's own
 *   clock, so N replicas together admit what one would;
 * - per-window outcome counts (HINCRBY), summed over replicas, so the control law sees the
 *   whole key's 429 share and accepted rate;
 * - the learned state (ceiling, rate, probe phase, concurrency limit), written by whichever
 *   replica wins the SET NX for that window and adopted by all.
 *
 * Redis is an optimisation of correctness, never a dependency of availability: any failure
 * flips `status` to 'redis_unavailable' (one log line), the caller falls back to its local
 * bucket, and ioredis keeps reconnecting; 'ready' flips it back.
 */
export interface SharedLimits {
  estimator: CeilingState;
  concurrencyLimit: number;
  /** The next shared window follows a decrease and is not judged (see Admission). */
  settling?: boolean;
}

/** One replica's (or, summed, every replica's) outcomes in a shared window. */
export type SharedWindowCounts = Omit<ClosedWindow, 'seconds'>;

/** A window nobody has reported into yet. */
export const NO_COUNTS: SharedWindowCounts = { ok: 0, limited: 0, overloaded: 0, busy: 0, queued: false };

/** Two replicas' (or workers') counts of one window, summed. */
export function addCounts(a: SharedWindowCounts, b: SharedWindowCounts): SharedWindowCounts {
  return { ok: a.ok + b.ok, limited: a.limited + b.limited, overloaded: a.overloaded + b.overloaded, busy: a.busy + b.busy, queued: a.queued || b.queued };
}

/** Where a shared budget is held, and whether it answers now ('cluster': the primary of PROXY_WORKERS). */
export type SharedStatus = 'redis' | 'redis_unavailable' | 'cluster' | 'cluster_unavailable';

/**
 * What admission needs from a budget shared by replicas: Redis in production, the primary
 * process for PROXY_WORKERS (src/cluster/), memory in the weather harness.
 */
export interface SharedBudget {
  readonly status: SharedStatus;
  connect(): Promise<void>;
  /** Takes one token: 0 when taken, else ms to wait; undefined when the budget just failed. */
  takeToken(rate: number, burst: number): Promise<number | undefined>;
  /**
   * A token this process already holds from the shared budget (taken ahead, in a batch),
   * given at once; false when there is none and takeToken() must ask.
   */
  takeLeased?(rate: number): boolean;
  drainBucket(): Promise<void>;
  readShared(): Promise<SharedLimits | undefined>;
  writeShared(state: SharedLimits): Promise<void>;
  /**
   * Adds this replica's counts to the window's sums; one replica (the first to ask after the
   * others have had time to add theirs) evaluates the summed window and writes the result,
   * which every replica receives.
   */
  closeWindow(
    windowId: number,
    counts: SharedWindowCounts & { seconds?: number },
    evaluate: (shared: SharedLimits | undefined, seconds: number) => (summed: SharedWindowCounts) => SharedLimits,
  ): Promise<SharedLimits | undefined>;
  close(): Promise<void>;
}

const PREFIX = 'zai-proxy:limits';
const BUCKET_KEY = `${PREFIX}:bucket`;
const STATE_KEY = `${PREFIX}:state`;

const TAKE_TOKEN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(v[1])
local ts = tonumber(v[2])
if tokens == nil or ts == nil then tokens = burst; ts = now end
if now > ts then tokens = tokens + (now - ts) / 1000 * rate; ts = now end
if tokens > burst then tokens = burst end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
elseif rate <= 0 then
  wait = 1000
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], 3600000)
return wait
`;

export class RedisBudget implements SharedBudget {
  private readonly client: Redis;
  private current: 'redis' | 'redis_unavailable' = 'redis_unavailable';
  private closing = false;
  /** Names this replica's span field in a shared window. */
  private readonly replicaId = randomBytes(6).toString('hex');

  constructor(
    url: string,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly windowMs: number,
  ) {
    this.client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(2000, 50 * times),
    });
    this.client.defineCommand('zaiTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
    this.client.on('ready', () => {
      if (this.current !== 'redis') this.log.info('limiter: shared Redis budget available');
      this.current = 'redis';
    });
    this.client.on('error', () => this.down('connection error'));
    this.client.on('close', () => this.down('connection closed'));
  }

  get status(): 'redis' | 'redis_unavailable' {
    return this.current;
  }

  private down(why: string): void {
    if (this.closing || this.current === 'redis_unavailable') return;
    this.current = 'redis_unavailable';
    // The URL may carry a password: never log it.
    this.log.warn({ why }, 'limiter: Redis unavailable, falling back to local limits');
  }

  async connect(): Promise<void> {
    try {
      await this.client.connect();
    } catch {
      if (this.current !== 'redis') this.log.warn('limiter: Redis unavailable at start, using local limits until it answers');
    }
  }

  /** 0 = token granted; > 0 = ms until one may be; undefined = Redis failed (go local). */
  async takeToken(rate: number, burst: number): Promise<number | undefined> {
    try {
      const wait = await (this.client as unknown as { zaiTakeToken(key: string, rate: string, burst: string): Promise<number> }).zaiTakeToken(
        BUCKET_KEY,
        String(rate),
        String(burst),
      );
      return Number(wait);
    } catch {
      this.down('command failed');
      return undefined;
    }
  }

  /** Empties the shared bucket (after a window the upstream mostly refused). */
  async drainBucket(): Promise<void> {
    try {
      await this.client.hset(BUCKET_KEY, 'tokens', '0');
    } catch {
      this.down('command failed');
    }
  }

  async readShared(): Promise<SharedLimits | undefined> {
    try {
      const text = await this.client.get(STATE_KEY);
      return text ? parseShared(text) : undefined;
    } catch {
      this.down('command failed');
      return undefined;
    }
  }

  async writeShared(state: SharedLimits): Promise<void> {
    try {
      await this.client.set(STATE_KEY, JSON.stringify(state), 'PX', 24 * 3_600_000);
    } catch {
      this.down('command failed');
    }
  }

  /**
   * Adds this replica's counts to window `windowId`, waits a quarter window for the others,
   * then either evaluates the summed window (the one replica that wins the lock) or reads what
   * the winner wrote. Returns the state to adopt. `counts.seconds` is how long this replica's
   * counts ran (more than a window when a short one was carried over); the evaluation uses the
   * longest span any replica reported, so summed counts are not divided by too short a time.
   */
  async closeWindow(
    windowId: number,
    counts: SharedWindowCounts & { seconds?: number },
    evaluate: (shared: SharedLimits | undefined, seconds: number) => (summed: SharedWindowCounts) => SharedLimits,
  ): Promise<SharedLimits | undefined> {
    const winKey = `${PREFIX}:win:${windowId}`;
    try {
      await this.client
        .multi()
        .hincrby(winKey, 'ok', counts.ok)
        .hincrby(winKey, 'limited', counts.limited)
        .hincrby(winKey, 'overloaded', counts.overloaded)
        .hincrby(winKey, 'busy', counts.busy)
        .hincrby(winKey, 'queued', counts.queued ? 1 : 0)
        .hset(winKey, `s:${this.replicaId}`, String(counts.seconds ?? this.windowMs / 1000))
        .pexpire(winKey, this.windowMs * 10)
        .exec();
      await this.pause(this.windowMs / 4);
      const won = await this.client.set(`${PREFIX}:eval:${windowId}`, '1', 'PX', this.windowMs * 10, 'NX');
      if (won === 'OK') {
        const [sums, stateText] = await Promise.all([this.client.hgetall(winKey), this.client.get(STATE_KEY)]);
        const shared = stateText ? parseShared(stateText) : undefined;
        const spans = Object.entries(sums)
          .filter(([k]) => k.startsWith('s:'))
          .map(([, v]) => Number(v))
          .filter((v) => v > 0 && Number.isFinite(v));
        const seconds = spans.length > 0 ? Math.max(...spans) : this.windowMs / 1000;
        const next = evaluate(
          shared,
          seconds,
        )({
          ok: Number(sums.ok ?? 0),
          limited: Number(sums.limited ?? 0),
          overloaded: Number(sums.overloaded ?? 0),
          busy: Number(sums.busy ?? 0),
          queued: Number(sums.queued ?? 0) > 0,
        });
        await this.client.set(STATE_KEY, JSON.stringify(next), 'PX', 24 * 3_600_000);
        return next;
      }
      await this.pause(this.windowMs / 8);
      return await this.readShared();
    } catch {
      this.down('command failed');
      return undefined;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  async close(): Promise<void> {
    this.closing = true;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

function parseShared(text: string): SharedLimits | undefined {
  try {
    const v = JSON.parse(text) as Partial<SharedLimits>;
    const e = v.estimator;
    if (!e || typeof e.rate !== 'number' || typeof e.ceiling !== 'number' || !(e.ceiling > 0) || !(e.rate > 0)) return undefined;
    return {
      // The estimator checks the rest of its state when it restores it.
      estimator: { ...e, cleanWindows: Number(e.cleanWindows) || 0, probeStep: Number(e.probeStep) || 0 },
      concurrencyLimit: Number(v.concurrencyLimit) || 1,
      settling: v.settling === true,
    };
  } catch {
    return undefined;
  }
}
