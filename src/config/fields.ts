import { z } from 'zod';

/**
 * Building blocks for environment-variable configuration. Every field parses a raw string
 * (or undefined when unset/empty) into a typed value, with an error message that names what
 * was expected, so a bad value stops the process with one clear line.
 */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "500ms", "30s", "1m", "6h", "1h30m", or a bare number of seconds into milliseconds. */
export function parseDurationMs(raw: string): number | undefined {
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

const unset = (v: unknown) => v === undefined || (typeof v === 'string' && v.trim() === '');

function field<T>(def: T, parse: (raw: string) => T | undefined, expected: string) {
  return z
    .unknown()
    .optional()
    .transform((v, ctx): T => {
      if (unset(v)) return def;
      const parsed = parse(String(v));
      if (parsed === undefined) {
        ctx.addIssue({ code: 'custom', message: `must be ${expected} (got ${JSON.stringify(String(v).slice(0, 64))})` });
        return z.NEVER;
      }
      return parsed;
    })
    .describe(expected);
}

export const str = (def: string) => field(def, (s) => s.trim(), 'a string');

export const optionalStr = () =>
  z
    .unknown()
    .optional()
    .transform((v): string | undefined => (unset(v) ? undefined : String(v).trim()))
    .describe('a string');

export const int = (def: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
  field(
    def,
    (s) => {
      const t = s.trim();
      if (!/^-?\d+$/.test(t)) return undefined;
      const n = Number(t);
      return n >= min && n <= max ? n : undefined;
    },
    max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer between ${min} and ${max}`,
  );

export const num = (def: number, { min = -Infinity, max = Infinity, minExclusive = false, maxExclusive = false } = {}) =>
  field(
    def,
    (s) => {
      const t = s.trim();
      if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
      const n = Number(t);
      if (!Number.isFinite(n)) return undefined;
      if (minExclusive ? n <= min : n < min) return undefined;
      if (maxExclusive ? n >= max : n > max) return undefined;
      return n;
    },
    `a number in ${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`,
  );

const TRUE = new Set(['true', '1', 'yes', 'on', 'y']);
const FALSE = new Set(['false', '0', 'no', 'off', 'n']);

export const bool = (def: boolean) =>
  field(
    def,
    (s) => {
      const t = s.trim().toLowerCase();
      return TRUE.has(t) ? true : FALSE.has(t) ? false : undefined;
    },
    'one of true/false/1/0/yes/no/on/off',
  );

/** A duration in milliseconds. */
export const duration = (defMs: number, { minMs = 0 } = {}) =>
  field(
    defMs,
    (s) => {
      const ms = parseDurationMs(s);
      return ms !== undefined && ms >= minMs ? ms : undefined;
    },
    `a duration like 500ms, 30s, 5m or 6h${minMs > 0 ? ` (at least ${minMs}ms)` : ''}`,
  );

export const httpUrl = (def: string) =>
  field(
    def,
    (s) => {
      try {
        const u = new URL(s.trim());
        if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
        return u.href.replace(/\/+$/, '');
      } catch {
        return undefined;
      }
    },
    'an http(s) URL',
  );

export const list = () =>
  z
    .unknown()
    .optional()
    .transform((v): string[] =>
      unset(v)
        ? []
        : String(v)
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0),
    )
    .describe('a comma-separated list');

/** pino's levels, for LOG_LEVEL in every process. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const logLevel = (def: (typeof LOG_LEVELS)[number] = 'info') => oneOf(LOG_LEVELS, def);

export const oneOf = <const T extends readonly string[]>(values: T, def: T[number]) =>
  field<T[number]>(
    def,
    (s) => {
      const t = s.trim().toLowerCase();
      return (values as readonly string[]).includes(t) ? (t as T[number]) : undefined;
    },
    `one of ${values.join(', ')}`,
  );

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads every field of a shape from the environment. Keys of the shape are the variable
 * names. Throws ConfigError naming the first bad variable.
 */
export function readEnv<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv): z.output<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(`invalid configuration: ${issue.path.join('.')} ${issue.message}`);
  }
  return result.data;
}
