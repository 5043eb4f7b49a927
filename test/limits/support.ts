import { pino } from 'pino';
import { Admission, type AdmissionOptions } from '../../src/limits/admission.js';
import { ManualClock } from '../../src/limits/clock.js';
import { createMetrics } from '../../src/metrics/catalogue.js';

export const silentLog = pino({ level: 'silent' });

export function options(o: Partial<AdmissionOptions> = {}): AdmissionOptions {
  return {
    enabled: true, maxWorkers: 4, queueTimeoutMs: 30_000, queueMax: 100, windowMs: 1000,
    ceilingAlpha: 0.3, holdMargin: 0.02, probeInterval: 10, minRate: 1, maxRate: 50, initialRate: 10,
    stateMaxAgeMs: 6 * 3_600_000, ...o,
  };
}

export async function admission(o: Partial<AdmissionOptions> = {}, clock = new ManualClock()) {
  const metrics = createMetrics('test', { processMetrics: false });
  const adm = new Admission(options(o), metrics, silentLog, clock);
  await adm.start();
  return { adm, clock, metrics };
}

/** Lets settled promises run their callbacks. */
export const flush = () => new Promise<void>((r) => setImmediate(r));
