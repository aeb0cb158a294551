/**
 * MinHash signatures over hashed shingles with LSH banding (Broder 1997; Leskovec et al., Mining of Massive
 * Datasets ch. 3), as used for near-duplicate removal by Lee et al. 2022. The hash family is seeded from the
 * caller's Rng, so the candidate set is reproducible per cell.
 */
import type { Rng } from '../../../src/rng.js';

/** 32-bit FNV-1a of a string. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The murmur3 32-bit finaliser: a fast bijective mixer, used as h_i(x) = mix(x ⊕ seed_i). */
function mix(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Sorted, distinct hashed word n-gram shingles of a normalised text (one shingle when shorter than n). */
export function shingles(tokens: readonly string[], n: number): Uint32Array {
  const set = new Set<number>();
  if (tokens.length < n) set.add(fnv1a(tokens.join(' ')));
  else for (let i = 0; i + n <= tokens.length; i++) set.add(fnv1a(tokens.slice(i, i + n).join(' ')));
  return Uint32Array.from(set).sort();
}

/** A seeded MinHash family of `permutations` hash functions. */
export function minhashFamily(rng: Rng, permutations: number): Uint32Array {
  const seeds = new Uint32Array(permutations);
  for (let i = 0; i < permutations; i++) seeds[i] = rng.nextUint32();
  return seeds;
}

/** The MinHash signature of a shingle set. */
export function signature(set: Uint32Array, seeds: Uint32Array): Uint32Array {
  const sig = new Uint32Array(seeds.length).fill(0xffffffff);
  for (let j = 0; j < set.length; j++) {
    const x = set[j]!;
    for (let i = 0; i < seeds.length; i++) {
      const h = mix(x ^ seeds[i]!);
      if (h < sig[i]!) sig[i] = h;
    }
  }
  return sig;
}

/**
 * Candidate pairs (i < j) that agree on all rows of at least one of `bands` bands. With b bands of r rows,
 * pairs of Jaccard s become candidates with probability 1 − (1 − s^r)^b.
 */
export function lshCandidates(signatures: readonly Uint32Array[], bands: number): [number, number][] {
  const perms = signatures[0]?.length ?? 0;
  const r = Math.floor(perms / bands);
  const seen = new Set<number>();
  const pairs: [number, number][] = [];
  const n = signatures.length;
  for (let b = 0; b < bands; b++) {
    const buckets = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const key = Array.from(signatures[i]!.subarray(b * r, (b + 1) * r)).join(',');
      const bucket = buckets.get(key);
      if (bucket) bucket.push(i);
      else buckets.set(key, [i]);
    }
    for (const bucket of buckets.values()) {
      for (let x = 0; x < bucket.length; x++) {
        for (let y = x + 1; y < bucket.length; y++) {
          const id = bucket[x]! * n + bucket[y]!;
          if (!seen.has(id)) {
            seen.add(id);
            pairs.push([bucket[x]!, bucket[y]!]);
          }
        }
      }
    }
  }
  return pairs;
}

/** Exact Jaccard similarity of two sorted shingle sets (a merge, no allocation). */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inter++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return inter / (a.length + b.length - inter);
}
