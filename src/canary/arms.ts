import { emptyArm, type ArmCounts } from './judgement.js';

/** Which variants are the two arms, and the span a reader is asked for. */
export interface ArmQuery {
  stable: string;
  canary: string;
  fromMs: number;
  toMs: number;
}

/** Both arms over one span, and every variant the source knows in it (to name a missing arm). */
export interface ArmsRead {
  stable: ArmCounts;
  canary: ArmCounts;
  variantsSeen: string[];
}

/** The source could not be read at all: the report exits 3. */
export class SourceUnreadableError extends Error {
  override name = 'SourceUnreadableError';
}

export interface ArmReader {
  readonly description: string;
  read(q: ArmQuery): Promise<ArmsRead>;
  close(): void;
}

export const emptyArms = (q: ArmQuery): { stable: ArmCounts; canary: ArmCounts } => ({ stable: emptyArm(q.stable), canary: emptyArm(q.canary) });

export const add = (r: Record<string, number>, key: string, n: number) => {
  if (n !== 0 && Number.isFinite(n)) r[key] = (r[key] ?? 0) + n;
};
