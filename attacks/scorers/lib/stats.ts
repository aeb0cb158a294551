/**
 * Small robust statistics for row scorers: robust z-scores (median/MAD), average ranks, rank averaging,
 * quantiles. (Flag rules live in ../types.ts.)
 */

/** Median of finite values (NaN when empty). The input is not changed. */
export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/**
 * Robust z-scores (s − median) / (1.4826 · MAD). When more than half the values tie (MAD = 0) the mean absolute
 * deviation stands in, so a handful of outliers among identical clean scores still stand out. Non-finite inputs
 * map to +Infinity (most suspicious) when they are +Infinity and to 0 otherwise.
 */
export function robustZ(values: readonly number[]): number[] {
  const med = median(values);
  if (!Number.isFinite(med)) return values.map(() => 0);
  const dev = values.filter(Number.isFinite).map((v) => Math.abs(v - med));
  let scale = 1.4826 * median(dev);
  if (!(scale > 0)) scale = 1.2533 * (dev.reduce((a, b) => a + b, 0) / Math.max(1, dev.length));
  if (!(scale > 0)) scale = 1;
  return values.map((v) => (Number.isFinite(v) ? (v - med) / scale : v === Infinity ? Infinity : 0));
}

/** Average ranks (1-based, ties share their mean rank), so rank-averaged detectors are tie-fair. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [Number.isNaN(v) ? -Infinity : v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = r;
    i = j + 1;
  }
  return ranks;
}

/** Mean of the normalised ranks (0..1] of several score lists of equal length. */
export function rankAverage(lists: readonly (readonly number[])[]): number[] {
  const n = lists[0]?.length ?? 0;
  const out = new Array<number>(n).fill(0);
  for (const list of lists) {
    const r = averageRanks(list);
    for (let i = 0; i < n; i++) out[i]! += r[i]! / n / lists.length;
  }
  return out;
}

/** The q-quantile (0..1) by linear interpolation of finite values. */
export function quantile(values: readonly number[], q: number): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}
