/**
 * Prometheus text exposition parser (format 0.0.4). Tolerant by design: a scrape page from a
 * half-broken target must still yield every good line, so a bad line is skipped and counted,
 * never thrown. Bounded by construction: one forward pass over the text with a hand-written
 * scanner (no backtracking regular expressions), each line consumed at most once.
 */

export type Labels = Readonly<Record<string, string>>;
export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** Sample name as written (`foo_bucket`, `foo_sum`, …). */
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
  /** Optional exposition timestamp, ms. */
  readonly timestampMs?: number;
}

export interface ParsedPage {
  readonly samples: Sample[];
  /** `# TYPE` declarations, by family name. */
  readonly types: Map<string, FamilyType>;
  /** Lines that were neither comments, blank, nor valid samples. */
  readonly skippedLines: number;
}

const TYPES = new Set<FamilyType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

const isNameStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58;
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 57);
const isLabelStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isLabelChar = (c: number) => isLabelStart(c) || (c >= 48 && c <= 57);
const isSpace = (c: number) => c === 32 || c === 9;

/** Parses a sample value: Go-style floats plus NaN, +Inf, -Inf (case-insensitive). */
export function parseValue(text: string): number | undefined {
  // Length cap first: keeps the regular expression below linear on hostile input.
  if (text.length === 0 || text.length > 64) return undefined;
  const t = text.toLowerCase();
  if (t === 'nan') return NaN;
  if (t === '+inf' || t === 'inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

class LineScanner {
  i = 0;
  constructor(readonly s: string) {}
  get done() {
    return this.i >= this.s.length;
  }
  peek() {
    return this.s.charCodeAt(this.i);
  }
  skipSpaces() {
    while (this.i < this.s.length && isSpace(this.s.charCodeAt(this.i))) this.i++;
  }
  word(start: (c: number) => boolean, rest: (c: number) => boolean): string | undefined {
    const from = this.i;
    if (this.done || !start(this.peek())) return undefined;
    this.i++;
    while (!this.done && rest(this.peek())) this.i++;
    return this.s.slice(from, this.i);
  }
  token(): string {
    const from = this.i;
    while (!this.done && !isSpace(this.peek())) this.i++;
    return this.s.slice(from, this.i);
  }
  /** A double-quoted label value with \\, \" and \n escapes; undefined when malformed. */
  quoted(): string | undefined {
    if (this.peek() !== 34) return undefined;
    this.i++;
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i++);
      if (c === 34) return out;
      if (c === 92) {
        if (this.i >= this.s.length) return undefined;
        const e = this.s[this.i++];
        out += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : `\\${e}`;
      } else {
        out += String.fromCharCode(c);
      }
    }
    return undefined;
  }
}

function parseLabels(sc: LineScanner): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  sc.i++; // '{'
  for (;;) {
    sc.skipSpaces();
    if (sc.done) return undefined;
    if (sc.peek() === 125) {
      sc.i++;
      return labels;
    }
    const name = sc.word(isLabelStart, isLabelChar);
    if (name === undefined) return undefined;
    sc.skipSpaces();
    if (sc.peek() !== 61) return undefined;
    sc.i++;
    sc.skipSpaces();
    const value = sc.quoted();
    if (value === undefined || Object.hasOwn(labels, name)) return undefined;
    labels[name] = value;
    sc.skipSpaces();
    if (sc.peek() === 44) sc.i++;
    else if (sc.peek() !== 125) return undefined;
  }
}

function parseSampleLine(line: string): Sample | undefined {
  const sc = new LineScanner(line);
  sc.skipSpaces();
  const name = sc.word(isNameStart, isNameChar);
  if (name === undefined) return undefined;
  sc.skipSpaces();
  let labels: Record<string, string> = {};
  if (sc.peek() === 123) {
    const parsed = parseLabels(sc);
    if (!parsed) return undefined;
    labels = parsed;
    sc.skipSpaces();
  }
  const value = parseValue(sc.token());
  if (value === undefined) return undefined;
  sc.skipSpaces();
  if (sc.done) return { name, labels, value };
  const ts = sc.token();
  sc.skipSpaces();
  if (!sc.done || !/^-?\d{1,16}$/.test(ts)) return undefined;
  return { name, labels, value, timestampMs: Number(ts) };
}

function parseComment(line: string, types: Map<string, FamilyType>): void {
  const sc = new LineScanner(line);
  sc.i = 1;
  sc.skipSpaces();
  const keyword = sc.token();
  if (keyword !== 'TYPE') return; // HELP and free comments carry nothing the dashboard needs
  sc.skipSpaces();
  const name = sc.word(isNameStart, isNameChar);
  sc.skipSpaces();
  const type = sc.token().toLowerCase() as FamilyType;
  if (name !== undefined && TYPES.has(type)) types.set(name, type);
}

export function parseExposition(text: string): ParsedPage {
  const samples: Sample[] = [];
  const types = new Map<string, FamilyType>();
  let skippedLines = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const trimmed = line.trimStart();
    if (trimmed === '') continue;
    if (trimmed.charCodeAt(0) === 35) {
      parseComment(trimmed, types);
      continue;
    }
    const sample = parseSampleLine(trimmed);
    if (sample) samples.push(sample);
    else skippedLines++;
  }
  return { samples, types, skippedLines };
}
