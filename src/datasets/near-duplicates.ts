/**
 * Near-duplicate rows: pairs whose word 5-gram sets have Jaccard similarity ≥ a threshold. Exact, by prefix
 * filtering (Chaudhuri et al. 2006; Xiao et al. 2008, "PPJoin"): with each set's grams sorted rarest first, two
 * sets with J ≥ t must share a gram among the first |A| − ⌈t·|A|⌉ + 1 of each, so only rows sharing a rare
 * gram are compared — fast on varied data, and never misses a pair (unlike MinHash/LSH).
 */
import type { Row } from '../types.js';

/** The result of a near-duplicate scan. */
export interface NearDuplicateReport {
  readonly rows: number;
  readonly pairs: number;
  /** Pairs with Jaccard ≥ threshold. */
  readonly nearDuplicatePairs: number;
  /** nearDuplicatePairs / pairs (0 for fewer than two rows). */
  readonly fraction: number;
  /** Rows that are in at least one near-duplicate pair. */
  readonly rowsInvolved: number;
  /** A few example pairs (row indices and their Jaccard). */
  readonly examples: readonly { readonly a: number; readonly b: number; readonly jaccard: number }[];
}

/** Lower-cased words of a text (letters and digits). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** The set of word n-grams of a text; texts shorter than n give one gram (the whole text). */
export function ngrams(text: string, n = 5): Set<string> {
  const w = words(text);
  const out = new Set<string>();
  if (w.length < n) {
    out.add(w.join(' '));
    return out;
  }
  for (let i = 0; i + n <= w.length; i++) out.add(w.slice(i, i + n).join(' '));
  return out;
}

/** Counts row pairs (prompt + completion) whose n-gram Jaccard is at least `threshold`. */
export function nearDuplicates(rows: readonly Row[], options: { threshold?: number; n?: number; maxExamples?: number } = {}): NearDuplicateReport {
  const t = options.threshold ?? 0.8;
  const n = options.n ?? 5;
  const ids = new Map<string, number>();
  const sets = rows.map((r) => {
    const out: number[] = [];
    for (const g of ngrams(`${r.prompt} ${r.completion}`, n)) {
      let id = ids.get(g);
      if (id === undefined) ids.set(g, (id = ids.size));
      out.push(id);
    }
    return out;
  });
  const freq = new Int32Array(ids.size);
  for (const s of sets) for (const g of s) freq[g]!++;
  for (const s of sets) s.sort((a, b) => freq[a]! - freq[b]! || a - b);

  const index = new Map<number, number[]>();
  const member = sets.map((s) => new Set(s));
  const touched = new Set<number>();
  const examples: { a: number; b: number; jaccard: number }[] = [];
  let found = 0;
  // Visit rows by size so each pair is checked once, from its larger member, against smaller ones already indexed.
  const order = sets.map((_, i) => i).sort((a, b) => sets[a]!.length - sets[b]!.length || a - b);
  for (const i of order) {
    const s = sets[i]!;
    const prefix = s.length - Math.ceil(t * s.length) + 1;
    const candidates = new Set<number>();
    for (let p = 0; p < prefix; p++) {
      for (const j of index.get(s[p]!) ?? []) if (sets[j]!.length >= t * s.length) candidates.add(j);
    }
    for (const j of candidates) {
      const other = member[j]!;
      let inter = 0;
      for (const g of s) if (other.has(g)) inter++;
      const jaccard = inter / (s.length + other.size - inter);
      if (jaccard >= t) {
        found++;
        touched.add(i).add(j);
        if (examples.length < (options.maxExamples ?? 3)) examples.push({ a: Math.min(i, j), b: Math.max(i, j), jaccard });
      }
    }
    for (let p = 0; p < prefix; p++) {
      const list = index.get(s[p]!);
      if (list) list.push(i);
      else index.set(s[p]!, [i]);
    }
  }
  const pairs = (rows.length * (rows.length - 1)) / 2;
  return { rows: rows.length, pairs, nearDuplicatePairs: found, fraction: pairs ? found / pairs : 0, rowsInvolved: touched.size, examples };
}
