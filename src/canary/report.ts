import type { ArmReader } from './arms.js';
import { judge, type Report, type Thresholds } from './judgement.js';

export interface ReportOptions {
  stable: string;
  canary: string;
  sinceMs: number;
  thresholds?: Partial<Thresholds>;
}

/** Reads both arms over the window and over its last `sustainS` seconds, then judges. */
export async function canaryReport(reader: ArmReader, opts: ReportOptions, nowMs = Date.now()): Promise<Report & { variants_seen: string[] }> {
  const sustainS = opts.thresholds?.sustainS ?? 120;
  const q = { stable: opts.stable, canary: opts.canary, toMs: nowMs };
  const window = await reader.read({ ...q, fromMs: nowMs - opts.sinceMs });
  const sustain = await reader.read({ ...q, fromMs: nowMs - Math.min(sustainS * 1000, opts.sinceMs) });
  const report = judge({ windowS: opts.sinceMs / 1000, window, sustain, thresholds: opts.thresholds });
  return { ...report, variants_seen: window.variantsSeen };
}
