/** @jsxRuntime automatic */
import type { ReactNode } from 'react';
import { type Level, levelStyle } from '../format/thresholds.js';
import { formatDelta, formatDeltaReadout } from '../format/format.js';

export function Panel(props: { id: string; title: string; subtitle?: ReactNode; wide?: boolean; children: ReactNode }) {
  return (
    <section className={`panel${props.wide ? ' panel-wide' : ''}`} id={`panel-${props.id}`} data-panel={props.id} aria-labelledby={`panel-${props.id}-title`}>
      <header className="panel-header">
        <h2 id={`panel-${props.id}-title`}>{props.title}</h2>
        {props.subtitle ? <span className="panel-subtitle">{props.subtitle}</span> : null}
      </header>
      {props.children}
    </section>
  );
}

/** A threshold marker: glyph + word + colour, never colour alone. */
export function LevelTag({ level }: { level: Level | null }) {
  if (!level) return null;
  const s = levelStyle(level);
  return (
    <span className={`level level-${level}`} title={`level: ${s.word}`}>
      <span aria-hidden="true">{s.glyph}</span> {s.word}
    </span>
  );
}

export const BUCKET_NOTE =
  'Quantiles are interpolated inside histogram buckets. Two variants whose requests fall in the same bucket show the same figure however they differ inside it.';

export interface StatValue {
  readonly variant: string;
  readonly text: string;
  readonly level?: Level | null;
  /** The raw number, for the delta readout between variants. */
  readonly raw?: number | null;
  /** A sentence in place of a number ("after a minute of data"): shown small, not as a figure. */
  readonly muted?: boolean;
}

/**
 * A headline number. With two variants it shows both, and the canary's difference from stable
 * as a signed percentage, so a regression reads without comparing lines by eye.
 */
export function Stat(props: {
  label: string;
  values: readonly StatValue[];
  hint?: string;
  id?: string;
  lowerIsBetter?: boolean;
  /** A quantile estimated from histogram buckets: equal values say "same bucket", not "0%". */
  bucketed?: boolean;
}) {
  const { values } = props;
  const compare = values.length > 1;
  const a = compare ? (values[0].raw ?? null) : null;
  const b = compare ? (values[1].raw ?? null) : null;
  const comparable = a !== null && b !== null && !Number.isNaN(a) && !Number.isNaN(b);
  // Nothing to compare and every value already says why in words ("after a minute of data"): say nothing more.
  const quiet = compare && !comparable && values.every((v) => v.muted);
  // Two variants whose observations fall in the same histogram bucket get the same interpolated
  // quantile: the equality is the bucket's resolution, not a measurement.
  // Shown alike counts as alike: 0.91 ms against 0.94 ms both read "0.9ms".
  const sameBucket = props.bucketed === true && comparable && (a === b || values[0].text === values[1].text);
  const delta = compare && comparable && !sameBucket ? formatDelta(a, b) : null;
  // A difference that rounds to "0%" is neither better nor worse.
  const direction = comparable && delta !== '0%' ? Math.sign(b - a) : 0;
  const worse = props.lowerIsBetter === undefined ? null : props.lowerIsBetter ? direction > 0 : direction < 0;
  return (
    <div className="stat" data-stat={props.id ?? props.label} title={props.hint}>
      <div className="stat-label">{props.label}</div>
      {values.map((v) => (
        <div className="stat-row" key={v.variant}>
          {compare ? <span className={`variant-chip vi-${values.indexOf(v)}`}>{v.variant}</span> : null}
          <span className={v.muted ? 'stat-value stat-value-muted' : 'stat-value'}>{v.text}</span>
          <LevelTag level={v.level ?? null} />
        </div>
      ))}
      {sameBucket ? (
        <div className="stat-delta stat-delta-bucket" data-bucket-artefact="" title={BUCKET_NOTE}>
          = {values[1].variant} vs {values[0].variant}: same histogram bucket, difference unknown
        </div>
      ) : delta !== null ? (
        <div className={`stat-delta${worse === true && direction !== 0 ? ' delta-worse' : ''}`} data-delta={delta}>
          <span aria-hidden="true">{direction > 0 ? '\u25B2' : direction < 0 ? '\u25BC' : '='}</span> {values[1].variant} vs {values[0].variant}: {delta}
          {worse === true && direction !== 0 ? ' (worse)' : worse === false && direction !== 0 ? ' (better)' : ''}
        </div>
      ) : compare && !quiet ? (
        <div className="stat-delta stat-delta-pending" data-delta-pending="">
          {values[1].variant} vs {values[0].variant}: {formatDeltaReadout(a, b)}
        </div>
      ) : null}
    </div>
  );
}

export function Stats({ children }: { children: ReactNode }) {
  return <div className="stats">{children}</div>;
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <p className="empty" role="note">
      {children}
    </p>
  );
}
