import { CATALOGUE, type MetricName } from '../../metrics/catalogue.js';

/** Metric names as values checked against the catalogue: a typo here is a compile error. */
export const METRIC = Object.fromEntries(Object.keys(CATALOGUE).map((k) => [k, k])) as { readonly [K in MetricName]: K };

export const bucketsOf = (name: MetricName): readonly number[] => CATALOGUE[name].buckets ?? [];

const counterLikeNames = new Set<string>();
for (const [name, spec] of Object.entries(CATALOGUE)) {
  if (spec.kind === 'counter') counterLikeNames.add(name);
  if (spec.kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) counterLikeNames.add(name + suffix);
}

/** Which sample names accumulate (counters and histogram parts of the catalogue). */
export const isCounterLike = (sampleName: string): boolean => counterLikeNames.has(sampleName);
