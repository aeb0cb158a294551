/**
 * Exact k-nearest-neighbour search on L2-normalised Float32Array embeddings (cosine distance), and the Local
 * Outlier Factor (Breunig et al. 2000) built on it. O(N²·d), which is fine up to ~5–10k rows on two cores.
 */

/** Row-major N×d matrix of L2-normalised vectors (zero vectors stay zero). */
export function normalise(vectors: readonly Float32Array[]): { data: Float32Array; n: number; d: number } {
  const n = vectors.length;
  const d = vectors[0]?.length ?? 0;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const v = vectors[i]!;
    if (v.length !== d) throw new RangeError(`embedding ${i} has ${v.length} dimensions, expected ${d}`);
    let s = 0;
    for (let j = 0; j < d; j++) s += v[j]! * v[j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) data[i * d + j] = v[j]! * inv;
  }
  return { data, n, d };
}

/** The k nearest neighbours of every row: indices and cosine distances (1 − cos), nearest first. */
export interface Neighbours {
  readonly k: number;
  readonly index: Int32Array; // n × k
  readonly distance: Float32Array; // n × k
}

/** Exact kNN by cosine distance, excluding each row itself. k is clamped to n − 1. Each pair is computed once. */
export function knn(m: { data: Float32Array; n: number; d: number }, kWanted: number): Neighbours {
  const { data, n, d } = m;
  const k = Math.max(0, Math.min(kWanted, n - 1));
  const index = new Int32Array(n * k).fill(-1);
  const distance = new Float32Array(n * k).fill(Infinity);
  if (k === 0) return { k, index, distance };
  const row = new Float32Array(d);
  for (let i = 0; i < n; i++) {
    const oi = i * d;
    for (let t = 0; t < d; t++) row[t] = data[oi + t]!;
    for (let j = i + 1; j < n; j++) {
      const oj = j * d;
      let dot = 0;
      for (let t = 0; t < d; t++) dot += row[t]! * data[oj + t]!;
      const dist = dot >= 1 ? 0 : 1 - dot;
      if (dist < distance[i * k + k - 1]!) insert(index, distance, i * k, k, j, dist);
      if (dist < distance[j * k + k - 1]!) insert(index, distance, j * k, k, i, dist);
    }
  }
  return { k, index, distance };
}

/** Inserts (j, dist) into the sorted neighbour list at `base`, dropping the farthest. */
function insert(index: Int32Array, distance: Float32Array, base: number, k: number, j: number, dist: number): void {
  let p = k - 1;
  while (p > 0 && distance[base + p - 1]! > dist) {
    distance[base + p] = distance[base + p - 1]!;
    index[base + p] = index[base + p - 1]!;
    p--;
  }
  distance[base + p] = dist;
  index[base + p] = j;
}

/** Mean distance to the first `k` neighbours of each row (the kNN outlier score). */
export function meanKnnDistance(nb: Neighbours, k: number, n: number): number[] {
  const kk = Math.min(k, nb.k);
  const out = new Array<number>(n).fill(0);
  for (let i = 0; i < n && kk > 0; i++) {
    let s = 0;
    for (let t = 0; t < kk; t++) s += nb.distance[i * nb.k + t]!;
    out[i] = s / kk;
  }
  return out;
}

/** Local Outlier Factor with MinPts = k (≈1 for inliers, > 1 for outliers), from a neighbour list with ≥ k entries. */
export function lof(nb: Neighbours, k: number, n: number): number[] {
  const kk = Math.min(k, nb.k);
  if (kk === 0) return new Array<number>(n).fill(1);
  const kDist = new Float64Array(n);
  for (let i = 0; i < n; i++) kDist[i] = nb.distance[i * nb.k + kk - 1]!;
  const lrd = new Float64Array(n);
  // A tiny floor keeps exact duplicates from giving infinite densities.
  const eps = 1e-10;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < kk; t++) {
      const o = nb.index[i * nb.k + t]!;
      s += Math.max(kDist[o]!, nb.distance[i * nb.k + t]!);
    }
    lrd[i] = 1 / (s / kk + eps);
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < kk; t++) s += lrd[nb.index[i * nb.k + t]!]!;
    out[i] = s / kk / lrd[i]!;
  }
  return out;
}
