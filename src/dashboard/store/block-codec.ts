import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * Sealed blocks: the snapshots of one variant over one bucket (a minute of 5s rows, an hour of
 * 1m rows, a day of 1h rows), compressed together. Consecutive snapshots share nearly all their
 * text, so a block costs a fraction of its rows stored one by one, and a query decodes one block
 * per bucket instead of one value per row (zlib's per-call setup, ~40 µs, dominates small rows).
 *
 * Layout: one format byte, then raw deflate (with a preset dictionary) of lines
 * `<ts>\t<snapshot JSON>` joined by `\n` (JSON text never holds a raw newline or tab).
 * The JSON is kept as text so the API can splice it into a response without parsing it.
 */

/** Rows of a block: ts and the snapshot's JSON text, in ts order. */
export interface BlockRow {
  ts: number;
  json: string;
}

const FORMAT_V1 = 1;

/**
 * The preset dictionary of format 1: a typical snapshot, so even a block's first row is coded
 * against familiar text. Frozen: blocks written with it can only be read with it byte for byte;
 * a different dictionary needs a new format byte.
 */
const DICTIONARY_V1 = Buffer.from(
  '{"ts":1795752188003,"variant":"stable","window_s":0.989,"requests":{"rate":4.044489383215369,"by_class":{"1xx":0,"2xx":4.044489383215369,"3xx":0,"4xx":0,"5xx":0},"by_code":{"200":4.044489383215369},"window":4,"lifetime":145,"error_ratio":0,"throttled_ratio":0,"client_disconnect_rate":0},"latency_ms":{"p50":3750,"p90":4750,"p95":4875,"p99":4975},"ttfb_ms":{"p50":3750,"p90":4750,"p95":4875,"p99":4975},"overhead_ms":{"p50":0.41666666666666663,"p90":4,"p95":4.5,"p99":4.8999999999999995},"tokens":{"rate":{"input":3615.77350859454,"output":792.7199191102123,"cache_read":846.309403437816,"cache_write":24.266936299292215},"window":{"input":3576,"output":784,"cache_read":837,"cache_write":24},"lifetime":{"input":60021,"output":23196,"cache_read":15699,"cache_write":588},"output_input_ratio":0.21923937360178972,"throughput_output":{"p90":2350,"p99":2485},"throughput_input":{"p90":900,"p99":990},"usage_source_rate":{"reported":4.044489383215369}},"cost_usd":{"window":0.00396247,"window_by_direction":{"input":0.002145600000000001,"output":0.0017247999999999986,"cache_read":9.20700000000002e-05,"cache_write":0},"per_hour":14.423551061678465,"lifetime":0.08877068999999997,"per_day":346.16522548028314,"window_by_model":{"glm-4.7":0.00396247},"per_day_by_model":{"glm-4.7":346.16522548028314}},"limiter":{"rate_rps":5.068657129116979,"ceiling_rps":5.172099111343856,"concurrency_limit":4,"queue_depth":15,"wait_ms":{"p50":3500,"p90":4700,"p95":4850,"p99":4970},"waits_rate":5.055611729019211,"rejection_rate":0,"rejections_by_reason":{},"adjustments_window":{"decrease":0}},"errors":{"upstream_rate":1.0111223458038423,"upstream_by_type":{"429":1.0111223458038423,"503":0},"zai_by_class":{"frequency":0,"concurrency":1.0111223458038423,"overload":0},"zai_by_code":{"1302":1.0111223458038423,"1303":0,"1305":0},"retry_rate":0,"retries_by_reason":{"frequency":0,"concurrency":0,"overload":0}},"workers":{"in_flight":0,"max_workers":16,"utilization":0},"quota":{"windows":{"five_hour":{"limit_type":"credit_limit","usage_ratio":0.6279331,"remaining_ratio":0.3720669,"reset_ms":1795770159000}},"sample_age_s":0,"poll_rate":{"success":1.0111223458038423,"error":0,"malformed":0,"stale":0}},"build":{"version":"0.1.0","commit":"3f2c1a9e0b7d","build_time":"2026-11-27T04:02:39.676Z"},"scrape":{"up":true,"duration_ms":25,"last_success_ms":1795752188028,"targets":1,"targets_up":1,"series":891}}',
  'utf8',
);

export class BlockFormatError extends Error {
  override name = 'BlockFormatError';
}

export function encodeBlock(rows: readonly BlockRow[]): Buffer {
  const text = rows.map((r) => `${r.ts}\t${r.json}`).join('\n');
  const body = deflateRawSync(text, { dictionary: DICTIONARY_V1 });
  return Buffer.concat([Buffer.from([FORMAT_V1]), body]);
}

export function decodeBlock(data: Buffer): BlockRow[] {
  if (data[0] !== FORMAT_V1) throw new BlockFormatError(`unknown block format ${data[0]}`);
  const text = inflateRawSync(data.subarray(1), { dictionary: DICTIONARY_V1 }).toString('utf8');
  if (text === '') return [];
  return text.split('\n').map((line) => {
    const tab = line.indexOf('\t');
    return { ts: Number(line.slice(0, tab)), json: line.slice(tab + 1) };
  });
}
