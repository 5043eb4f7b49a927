import { pino } from 'pino';
import { readProxyEnv } from '../../src/config/proxy.js';
import { Admission, admissionOptionsFrom, type AdmissionOptions } from '../../src/limits/admission.js';
import { ManualClock } from '../../src/limits/clock.js';
import { createMetrics } from '../../src/metrics/catalogue.js';

export const silentLog = pino({ level: 'silent' });

/** What a proxy started with no configuration gives its admission, less the state file. */
const proxyDefaults: AdmissionOptions = { ...admissionOptionsFrom(readProxyEnv({})), stateFile: undefined };

export function options(o: Partial<AdmissionOptions> = {}): AdmissionOptions {
  // Fewer workers, a shorter queue and 1 s windows than a deployment's keep these tests small.
  return { ...proxyDefaults, maxWorkers: 4, queueMax: 100, windowMs: 1000, ...o };
}

export async function admission(o: Partial<AdmissionOptions> = {}, clock = new ManualClock()) {
  const metrics = createMetrics('test', { processMetrics: false });
  const adm = new Admission(options(o), metrics, silentLog, clock);
  await adm.start();
  return { adm, clock, metrics };
}

/** Lets settled promises run their callbacks. */
export const flush = () => new Promise<void>((r) => setImmediate(r));
