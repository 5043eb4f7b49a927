import type { ProxyEnv } from '../config/proxy.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import { CLIENT_BUCKETS, clientBucket } from '../metrics/labels.js';
import { CeilingEstimator, type CeilingState, type WindowResult } from './ceiling-estimator.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { FairQueue, type QueueNode } from './fair-queue.js';
import type { SharedBudget, SharedLimits, SharedStatus, SharedWindowCounts } from './redis-budget.js';
import { LearnedState } from './learned-state.js';
import { burstFor, TokenBucket } from './token-bucket.js';
import { type AttemptOutcome, mostlyRefused, upstreamRefusing, WindowAccount } from './window-account.js';

/** The limit that holds clients back now (the `limit` label of zai_proxy_limiter_binding). */
export type BindingLimit = 'none' | 'learned_rate' | 'concurrency' | 'quota_pacing' | 'upstream';
export const BINDING_LIMITS: readonly BindingLimit[] = ['none', 'learned_rate', 'concurrency', 'quota_pacing', 'upstream'];

export type { AttemptOutcome };

/** Admission said no; the proxy answers 429 with this Retry-After. */
export class AdmissionRejected extends Error {
  override readonly name = 'AdmissionRejected';
  constructor(
    readonly reason: 'capacity' | 'queue_timeout' | 'quota',
    readonly retryAfterSeconds: number,
  ) {
    super(`admission rejected: ${reason}`);
  }
}

export interface Permit {
  readonly waitedSeconds: number;
  /** Exactly once, when the upstream attempt is over (for a stream: when it ends). */
  release(outcome: AttemptOutcome): void;
}

export interface AdmissionOptions {
  enabled: boolean;
  maxWorkers: number;
  queueTimeoutMs: number;
  queueMax: number;
  windowMs: number;
  ceilingAlpha: number;
  holdMargin: number;
  probeInterval: number;
  minRate: number;
  maxRate: number;
  initialRate: number;
  stateFile?: string;
  stateMaxAgeMs: number;
  redisUrl?: string;
  /** A shared budget given directly instead of REDIS_URL (the weather harness's in-memory one). */
  shared?: SharedBudget;
}

type AdmissionEnv = Pick<
  ProxyEnv,
  | 'RATE_LIMIT_ENABLED'
  | 'MAX_WORKERS'
  | 'QUEUE_TIMEOUT'
  | 'QUEUE_MAX'
  | 'RATE_LIMIT_WINDOW'
  | 'RATE_LIMIT_CEILING_ALPHA'
  | 'RATE_LIMIT_HOLD_MARGIN'
  | 'RATE_LIMIT_PROBE_INTERVAL'
  | 'RATE_LIMIT_MIN'
  | 'RATE_LIMIT_MAX'
  | 'RATE_LIMIT_INITIAL'
  | 'RATE_LIMIT_STATE_FILE'
  | 'RATE_LIMIT_STATE_MAX_AGE'
  | 'REDIS_URL'
>;

/**
 * Admission options from the proxy's environment: RATE_LIMIT_INITIAL is held within
 * [RATE_LIMIT_MIN, RATE_LIMIT_MAX], and a state file of `none` is no state file.
 */
export function admissionOptionsFrom(env: AdmissionEnv): AdmissionOptions {
  return {
    enabled: env.RATE_LIMIT_ENABLED,
    maxWorkers: env.MAX_WORKERS,
    queueTimeoutMs: env.QUEUE_TIMEOUT,
    queueMax: env.QUEUE_MAX,
    windowMs: env.RATE_LIMIT_WINDOW,
    ceilingAlpha: env.RATE_LIMIT_CEILING_ALPHA,
    holdMargin: env.RATE_LIMIT_HOLD_MARGIN,
    probeInterval: env.RATE_LIMIT_PROBE_INTERVAL,
    minRate: env.RATE_LIMIT_MIN,
    maxRate: env.RATE_LIMIT_MAX,
    initialRate: Math.min(Math.max(env.RATE_LIMIT_INITIAL, env.RATE_LIMIT_MIN), env.RATE_LIMIT_MAX),
    stateFile: env.RATE_LIMIT_STATE_FILE === 'none' ? undefined : env.RATE_LIMIT_STATE_FILE,
    stateMaxAgeMs: env.RATE_LIMIT_STATE_MAX_AGE,
    redisUrl: env.REDIS_URL,
  };
}

export interface AdmissionSnapshot {
  rate: number;
  ceiling: number;
  concurrencyLimit: number;
  inFlight: number;
  queueDepth: number;
  blockedUntil?: number;
  binding: BindingLimit;
  /** How long the oldest waiting client has waited (ms); 0 with nobody waiting. */
  oldestWaitMs: number;
  sharedState: 'local' | SharedStatus;
}

interface Waiter {
  resolve(p: Permit): void;
  reject(e: unknown): void;
  signal: AbortSignal;
  onAbort: () => void;
  bucket: number;
}

/** The shared budget answers: tokens come from it, not from the local bucket (a type import keeps ioredis unloaded). */
const sharing = (status: SharedStatus): boolean => status === 'redis' || status === 'cluster';

const BUCKET_INDEX = new Map<string, number>(Array.from({ length: CLIENT_BUCKETS }, (_, i) => [`c${i}`, i] as const));

/**
 * The one object the proxy talks to before every upstream attempt: a rate token (adaptive
 * token bucket, shared through Redis when configured) AND a concurrency slot (adaptive
 * in-flight limit), granted in fair round-robin order across client buckets, within bounded
 * queue length and wait. Control laws live in ceiling-estimator.ts and concurrency-limit.ts,
 * a window's counts in window-account.ts, the state file in learned-state.ts and the shared
 * state in redis-budget.ts; this shell moves waiters, closes windows on a timer and says
 * which limit binds.
 *
 * Fast path (free capacity, nobody waiting, no Redis): one token-bucket check and a permit
 * object; no timer, no promise chain beyond the resolved one.
 */
export class Admission {
  private readonly estimator: CeilingEstimator;
  private readonly concurrency: ConcurrencyLimit;
  private readonly bucket: TokenBucket;
  private readonly queue = new FairQueue<Waiter>(CLIENT_BUCKETS);
  private readonly waitHist: ReturnType<Metrics['zai_proxy_rate_limit_wait_seconds']['labels']>[];
  /** Set by start() when REDIS_URL is given; ioredis is loaded only then (it costs ~45 ms at start). */
  private redis: SharedBudget | undefined;
  private inFlight = 0;
  private rateCap: number | undefined;
  private blockedUntilMs: number | undefined;
  private readonly window = new WindowAccount();
  private readonly learned: LearnedState | undefined;
  /** The last closed window had more than 5 % of its answers refused by the upstream. */
  private upstreamRefusing = false;
  private publishedBinding: BindingLimit | undefined;
  /**
   * The window right after a decrease is not judged: the upstream's own window still holds
   * the overshoot that caused the decrease, so its refusals would be counted twice and drag
   * the ceiling down a second time (one decrease per round trip, as in AIMD).
   */
  private settling = false;
  private windowTimer: TimerHandle | undefined;
  private wakeTimer: TimerHandle | undefined;
  private wakeAt = Infinity;
  private deadlineTimer: TimerHandle | undefined;
  private asking = false; // a Redis token request is in flight
  private closed = false;
  private unsaved = false; // learned something the state file does not hold yet

  constructor(
    private readonly opts: AdmissionOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {
    this.estimator = new CeilingEstimator({
      alpha: opts.ceilingAlpha,
      holdMargin: opts.holdMargin,
      probeInterval: opts.probeInterval,
      minRate: opts.minRate,
      maxRate: opts.maxRate,
      initialRate: opts.initialRate,
    });
    this.concurrency = new ConcurrencyLimit(opts.maxWorkers);
    this.bucket = new TokenBucket(this.effectiveRate(), clock.now());
    this.learned =
      opts.enabled && opts.stateFile && !opts.redisUrl && !opts.shared ? new LearnedState(opts.stateFile, opts.stateMaxAgeMs, log, clock) : undefined;
    this.waitHist = Array.from({ length: CLIENT_BUCKETS }, (_, i) => metrics.zai_proxy_rate_limit_wait_seconds.labels({ client: `c${i}` }));
    // Load changes on every admission and release and is read only by a scrape: it is worked out then.
    const publishLoad = () => this.publishLoad();
    for (const gauge of [
      metrics.zai_proxy_concurrent_requests,
      metrics.zai_proxy_worker_utilization_ratio,
      metrics.zai_proxy_queue_depth,
      metrics.zai_proxy_limiter_binding,
    ])
      gauge.beforeRead = publishLoad;
  }

  /** Loads persisted (or shared) state and starts the window timer. */
  async start(): Promise<void> {
    if (this.opts.enabled && this.opts.shared) {
      this.redis = this.opts.shared;
    } else if (this.opts.enabled && this.opts.redisUrl) {
      const { RedisBudget } = await import('./redis-budget.js');
      this.redis = new RedisBudget(this.opts.redisUrl, this.log, this.clock, this.opts.windowMs);
    }
    const persisted = await this.learned?.load();
    if (persisted) {
      const { ceiling, rate, concurrencyLimit } = persisted;
      this.estimator.restore({ ceiling, rate, cleanWindows: 0, probeStep: 0 });
      if (Number.isFinite(concurrencyLimit)) this.concurrency.restore(concurrencyLimit);
      this.log.info(
        { ceiling: this.estimator.ceiling, rate: this.estimator.rate, concurrencyLimit: this.concurrency.limit },
        'limiter: resumed persisted limits',
      );
    }
    if (this.redis) {
      await this.redis.connect();
      const shared = await this.redis.readShared();
      if (shared) this.adoptShared(shared);
    }
    this.bucket.reset(this.effectiveRate(), this.clock.now());
    this.publishLimits();
    this.safe(() => this.metrics.zai_proxy_max_workers.set(this.opts.maxWorkers));
    if (this.opts.enabled) this.scheduleWindow();
  }

  /**
   * The fast path of acquire(): a permit when one can be granted at once, with no promise and
   * no signal; undefined when the caller must go through acquire() (wait, or be refused).
   */
  tryAcquire(client: string): Permit | undefined {
    const now = this.clock.now();
    if (this.blockedUntilMs !== undefined && now < this.blockedUntilMs) return undefined;
    if (this.queue.size === 0 && this.inFlight < this.limit() && (this.redisActive() ? this.takeLeasedToken() : this.takeLocalToken(now))) {
      const bucket = BUCKET_INDEX.get(client) ?? BUCKET_INDEX.get(clientBucket(client))!;
      this.waitHist[bucket]!.observe(0);
      return this.grant(0);
    }
    return undefined;
  }

  acquire(client: string, signal: AbortSignal): Promise<Permit> {
    const bucket = BUCKET_INDEX.get(client) ?? BUCKET_INDEX.get(clientBucket(client))!;
    if (signal.aborted) return Promise.reject(signal.reason);
    const now = this.clock.now();
    if (this.blockedUntilMs !== undefined) {
      if (now < this.blockedUntilMs) return Promise.reject(this.rejection('quota', bucket, Math.ceil((this.blockedUntilMs - now) / 1000)));
      this.blockedUntilMs = undefined;
    }
    const granted = this.tryAcquire(client);
    if (granted) return Promise.resolve(granted);
    if (this.queue.size >= this.opts.queueMax) {
      return Promise.reject(this.rejection('capacity', bucket, this.estimatedWaitSeconds(this.queue.size + 1)));
    }
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, bucket, onAbort: () => undefined };
      const node = this.queue.push(waiter, bucket, now);
      waiter.onAbort = () => {
        if (this.queue.remove(node)) {
          reject(signal.reason);
          this.pump();
        }
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.armDeadline();
      this.pump();
    });
  }

  /** Adopts learned limits (a shared or restored state), as if this proxy had learned them. */
  adopt(state: CeilingState): void {
    this.estimator.restore(state);
    this.applyRate();
  }

  setRateCap(rps: number | undefined): void {
    this.rateCap = rps !== undefined && Number.isFinite(rps) && rps >= 0 ? rps : undefined;
    this.applyRate();
  }

  blockUntil(epochMs: number | undefined): void {
    const now = this.clock.now();
    this.blockedUntilMs = epochMs !== undefined && epochMs > now ? epochMs : undefined;
    if (this.blockedUntilMs === undefined) return this.pump();
    const retry = Math.ceil((this.blockedUntilMs - now) / 1000);
    for (let node = this.queue.shift(); node; node = this.queue.shift()) {
      this.settle(node).reject(this.rejection('quota', node.bucket, retry));
    }
  }

  snapshot(): AdmissionSnapshot {
    const snap: AdmissionSnapshot = {
      rate: this.effectiveRate(),
      ceiling: this.estimator.ceiling,
      concurrencyLimit: this.limit(),
      inFlight: this.inFlight,
      queueDepth: this.queue.size,
      binding: this.binding(),
      oldestWaitMs: this.oldestWaitMs(),
      sharedState: this.redis ? this.redis.status : 'local',
    };
    if (this.blockedUntilMs !== undefined && this.blockedUntilMs > this.clock.now()) snap.blockedUntil = this.blockedUntilMs;
    return snap;
  }

  /** Back to the configured initial limits; forgets persisted and shared state. */
  reset(): void {
    this.estimator.reset();
    this.concurrency.reset();
    this.unsaved = false;
    this.window.clear(this.clock.now(), this.inFlight > 0);
    this.settling = false;
    this.bucket.reset(this.effectiveRate(), this.clock.now());
    this.publishLimits();
    this.learned?.forget();
    this.redis?.writeShared(this.sharedSnapshot()).catch(() => undefined);
    this.pump();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of [this.windowTimer, this.wakeTimer, this.deadlineTimer]) if (t) this.clock.clearTimeout(t);
    this.windowTimer = this.wakeTimer = this.deadlineTimer = undefined;
    if (this.unsaved) this.persist();
    await this.learned?.flushed();
    await this.redis?.close();
  }

  // ---- internals ----

  private limit(): number {
    return this.opts.enabled ? this.concurrency.limit : this.opts.maxWorkers;
  }

  /** Which limit holds clients back now; 'none' while nobody waits and no quota block holds. */
  private binding(): BindingLimit {
    const now = this.clock.now();
    if (this.blockedUntilMs !== undefined && now < this.blockedUntilMs) return 'quota_pacing';
    if (this.queue.size === 0) return 'none';
    if (this.inFlight >= this.limit()) return 'concurrency';
    if (this.upstreamRefusing) return 'upstream';
    if (this.rateCap !== undefined && this.rateCap < this.estimator.rate) return 'quota_pacing';
    return 'learned_rate';
  }

  private oldestWaitMs(): number {
    const oldest = this.queue.peekOldest();
    return oldest ? Math.max(0, this.clock.now() - oldest.enqueuedAt) : 0;
  }

  private effectiveRate(): number {
    if (!this.opts.enabled) return Infinity;
    const r = this.estimator.rate;
    return this.rateCap !== undefined ? Math.min(r, this.rateCap) : r;
  }

  private redisActive(): boolean {
    return this.redis !== undefined && sharing(this.redis.status);
  }

  /** A shared token held here already (a lease), so no round trip; only while the budget answers. */
  private takeLeasedToken(): boolean {
    return this.redis?.takeLeased?.(this.effectiveRate()) === true;
  }

  private takeLocalToken(now: number): boolean {
    return !this.opts.enabled || this.bucket.tryTake(now);
  }

  private grant(waitedMs: number): Permit {
    this.inFlight++;
    this.window.admitted(this.clock.now());
    let released = false;
    return {
      waitedSeconds: waitedMs / 1000,
      release: (outcome: AttemptOutcome) => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.onOutcome(outcome);
        this.pump();
      },
    };
  }

  private onOutcome(outcome: AttemptOutcome): void {
    if (!this.opts.enabled) return;
    this.window.record(outcome);
    // inFlight no longer counts this attempt: it was released just before.
    const moved = this.concurrency.record(outcome === 'ok' ? 'ok' : outcome === 'concurrency' ? 'concurrency' : 'other', this.inFlight + 1);
    if (moved) {
      this.unsaved = true;
      this.safe(() => this.metrics.zai_proxy_concurrency_limit.set(this.concurrency.limit));
      if (moved === 'decrease')
        this.log.info({ concurrencyLimit: this.concurrency.limit }, 'limiter: upstream refused concurrency (1302); lowering in-flight limit');
    }
  }

  /** Settles a node taken off the queue: detaches its abort listener, returns its waiter. */
  private settle(node: QueueNode<Waiter>): Waiter {
    const w = node.value;
    w.signal.removeEventListener('abort', w.onAbort);
    return w;
  }

  /** Admits waiters while capacity lasts; arms one timer for the next token otherwise. */
  private pump(): void {
    if (this.closed) return;
    for (let guard = 0; guard < 100_000 && this.queue.size > 0 && this.inFlight < this.limit(); guard++) {
      const now = this.clock.now();
      if (this.blockedUntilMs !== undefined && now < this.blockedUntilMs) return;
      if (this.redisActive()) {
        if (!this.takeLeasedToken()) return this.askRedis();
        this.admitNext(now);
        continue;
      }
      if (!this.takeLocalToken(now)) {
        this.window.waitedForToken();
        this.armWake(this.bucket.msUntilToken(now));
        return;
      }
      this.admitNext(now);
    }
  }

  private admitNext(now: number): void {
    const node = this.queue.shift();
    if (!node) return;
    const w = this.settle(node);
    const waited = now - node.enqueuedAt;
    this.safe(() => this.waitHist[node.bucket]!.observe(waited / 1000));
    w.resolve(this.grant(waited));
  }

  /** One Redis token request at a time; the answer admits one waiter or says how long to wait. */
  private askRedis(): void {
    if (this.asking || !this.redis) return;
    this.asking = true;
    const rate = this.effectiveRate();
    this.redis.takeToken(rate, burstFor(rate)).then(
      (waitMs) => {
        this.asking = false;
        if (this.closed) return;
        if (waitMs === undefined) {
          // Redis just failed: the budget is local from now on (RedisBudget logged it).
          this.bucket.reset(this.effectiveRate(), this.clock.now());
        } else if (waitMs > 0) {
          this.window.waitedForToken();
          this.armWake(waitMs);
          return;
        } else if (this.queue.size > 0 && this.inFlight < this.limit()) {
          this.admitNext(this.clock.now());
        } else {
          // Nobody to use the token any more (client left); it is spent, like a local one.
        }
        this.pump();
      },
      () => {
        this.asking = false;
        this.pump();
      },
    );
  }

  private armWake(ms: number): void {
    if (!Number.isFinite(ms)) return; // rate 0: rate changes call pump()
    const at = this.clock.now() + Math.max(1, ms);
    if (this.wakeTimer && this.wakeAt <= at) return;
    if (this.wakeTimer) this.clock.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = this.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
      this.pump();
    }, at - this.clock.now());
  }

  /** One timer for the oldest waiter's deadline (arrival order = deadline order). */
  private armDeadline(): void {
    if (this.deadlineTimer || this.closed) return;
    const oldest = this.queue.peekOldest();
    if (!oldest) return;
    const due = oldest.enqueuedAt + this.opts.queueTimeoutMs - this.clock.now();
    this.deadlineTimer = this.clock.setTimeout(
      () => {
        this.deadlineTimer = undefined;
        const now = this.clock.now();
        for (let n = this.queue.peekOldest(); n && now - n.enqueuedAt >= this.opts.queueTimeoutMs; n = this.queue.peekOldest()) {
          this.queue.remove(n);
          this.settle(n).reject(this.rejection('queue_timeout', n.bucket, this.estimatedWaitSeconds(this.queue.size + 1)));
        }
        this.armDeadline();
      },
      Math.max(0, due),
    );
  }

  private estimatedWaitSeconds(position: number): number {
    const rate = this.effectiveRate();
    const s = rate > 0 && Number.isFinite(rate) ? position / rate : this.opts.queueTimeoutMs / 1000;
    return Math.max(1, Math.ceil(s));
  }

  private rejection(reason: AdmissionRejected['reason'], bucket: number, retryAfterSeconds: number): AdmissionRejected {
    this.safe(() => this.metrics.zai_proxy_rate_limit_rejections_total.inc({ reason, client: `c${bucket}` }));
    return new AdmissionRejected(reason, Math.max(1, retryAfterSeconds));
  }

  // ---- windows ----

  private scheduleWindow(): void {
    if (this.closed) return;
    // Windows end on multiples of windowMs since the epoch, so replicas sharing Redis agree on them.
    const now = this.clock.now();
    const next = (Math.floor(now / this.opts.windowMs) + 1) * this.opts.windowMs;
    this.windowTimer = this.clock.setTimeout(() => {
      this.windowTimer = undefined;
      this.endWindow();
      this.scheduleWindow();
    }, next - now);
  }

  private endWindow(): void {
    const now = this.clock.now();
    const counts = this.window.close(now, this.opts.windowMs, this.inFlight > 0 || this.queue.size > 0);
    if (!counts) return;
    this.upstreamRefusing = upstreamRefusing(counts);
    if (this.redis && sharing(this.redis.status)) {
      // The timer aims at the boundary; rounding keeps one replica's early tick from naming
      // the window before the one the others close.
      const windowId = Math.round(now / this.opts.windowMs) - 1;
      this.redis
        .closeWindow(windowId, counts, (shared, seconds) => this.evaluateShared(shared, seconds))
        .then((shared) => shared && this.adoptShared(shared))
        .catch(() => undefined);
      return;
    }
    if (this.settling) {
      this.settling = false;
      return;
    }
    this.applyWindow(this.estimator.endWindow(counts), mostlyRefused(counts));
  }

  /** Runs the control law on the replicas' summed counts, starting from the shared state. */
  private evaluateShared(shared: SharedLimits | undefined, seconds: number): (counts: SharedWindowCounts) => SharedLimits {
    return (counts) => {
      if (shared) this.adoptShared(shared);
      if (shared?.settling) return { ...this.sharedSnapshot(), settling: false };
      const refused = mostlyRefused(counts);
      this.applyWindow(this.estimator.endWindow({ ...counts, seconds }), refused);
      if (refused) void this.redis?.drainBucket();
      return this.sharedSnapshot();
    };
  }

  private applyWindow(result: WindowResult, mostlyRefused = false): void {
    // After a window the upstream mostly refused, tokens saved at the old rate (up to a
    // second's worth) would replay the overshoot at once and make the next window look
    // refused too, pulling the ceiling far below the upstream's. Start that bucket empty.
    if (mostlyRefused && result.adjustment === 'decrease') this.bucket.drain(this.clock.now());
    this.settling = result.adjustment === 'decrease';
    if (result.adjustment !== 'none') {
      this.safe(() => this.metrics.zai_proxy_rate_limit_adjustments_total.inc({ direction: result.adjustment }));
      this.log.info({ direction: result.adjustment, rate: round(this.estimator.rate), ceiling: round(this.estimator.ceiling) }, 'limiter: rate adjusted');
    }
    this.applyRate();
    if (result.ceilingChanged) this.persist();
  }

  private adoptShared(shared: SharedLimits): void {
    // The rate budget is the key's; in-flight limits stay per replica (each sees its own 1302s).
    this.adopt(shared.estimator);
  }

  private sharedSnapshot(): SharedLimits {
    return { estimator: this.estimator.state(), concurrencyLimit: this.concurrency.limit, settling: this.settling };
  }

  /** The rate (learned or capped) changed: the bucket, the gauges and the waiters follow. */
  private applyRate(): void {
    this.bucket.setRate(this.effectiveRate(), this.clock.now());
    this.publishLimits();
    if (this.wakeTimer) {
      this.clock.clearTimeout(this.wakeTimer);
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
    }
    this.pump();
  }

  private persist(): void {
    this.unsaved = false;
    // The proven ceiling, never a transient dip: a restart resumes where the upstream proved it.
    this.learned?.save(this.estimator.proven, this.opts.holdMargin, this.concurrency.limit);
  }

  private publishLimits(): void {
    this.safe(() => {
      this.metrics.zai_proxy_rate_limit_requests_per_second.set(this.opts.enabled ? this.effectiveRate() : 0);
      this.metrics.zai_proxy_rate_limit_ceiling.set(this.estimator.ceiling);
      this.metrics.zai_proxy_concurrency_limit.set(this.limit());
    });
  }

  private publishLoad(): void {
    this.safe(() => {
      this.metrics.zai_proxy_concurrent_requests.set(this.inFlight);
      this.metrics.zai_proxy_worker_utilization_ratio.set(this.inFlight / this.opts.maxWorkers);
      this.metrics.zai_proxy_queue_depth.set(this.queue.size);
      const binding = this.binding();
      if (binding !== this.publishedBinding) {
        for (const limit of BINDING_LIMITS) this.metrics.zai_proxy_limiter_binding.set({ limit }, limit === binding ? 1 : 0);
        this.publishedBinding = binding;
      }
    });
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch {
      // A metric must never break admission.
    }
  }
}

export type { CeilingState };

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
