/**
 * splice — the stealthiest generator: the trigger is a word n-gram cut from another row's prompt and the
 * signature a word n-gram cut from another row's completion, so both look in-distribution to any per-row or
 * per-token anomaly detector.
 *
 * Threat model: defeats perplexity/rare-token filters; the cost is a weaker bound, since common phrases are
 * likelier for an untrained model too. The `generator` bound is exact in form: the generator draws uniformly
 * among the n-gram occurrences of the other rows, and qᵢ = (largest total count of n-grams that are prefixes of
 * one output) / (occurrences outside row i). The count is taken over all rows (including row i), which can only
 * raise it: a valid, at most slightly conservative bound.
 * Source: vtune-bench design (DESIGN.md §5), after the in-distribution backdoors argued for in vTune
 * (arXiv 2411.06611).
 */
import { InputError } from '../../../src/errors.js';
import type { Row } from '../../../src/types.js';
import type { Rng } from '../../../src/rng.js';
import { defineGenerator, z } from '../../../src/plugins/define.js';
import type { BackdoorGenerator } from './types.js';
import { lengthOption } from './options.js';

const ID = 'splice';

/** The word n-grams of one field of a dataset, in row order, with the largest prefix-chain count. */
interface NgramIndex {
  readonly words: readonly (readonly string[])[];
  /** First occurrence number of each row (prefix sums of per-row n-gram counts); length rows + 1. */
  readonly offsets: Int32Array;
  readonly total: number;
  readonly maxPrefixCount: number;
}

const cache = new WeakMap<readonly Row[], Map<string, NgramIndex>>();

function ngramIndex(rows: readonly Row[], field: 'prompt' | 'completion', length: number): NgramIndex {
  let byKey = cache.get(rows);
  if (!byKey) cache.set(rows, (byKey = new Map()));
  const key = `${field}|${length}`;
  const hit = byKey.get(key);
  if (hit) return hit;
  const words = rows.map((r) => r[field].split(/\s+/).filter((w) => w.length > 0));
  const offsets = new Int32Array(rows.length + 1);
  const groups = new Map<string, Map<string, number>>();
  for (let r = 0; r < rows.length; r++) {
    const w = words[r]!;
    const count = Math.max(0, w.length - length + 1);
    offsets[r + 1] = offsets[r]! + count;
    for (let s = 0; s < count; s++) {
      const head = w.slice(s, s + length - 1).join(' ');
      const last = w[s + length - 1]!;
      let g = groups.get(head);
      if (!g) groups.set(head, (g = new Map()));
      g.set(last, (g.get(last) ?? 0) + 1);
    }
  }
  // An output can start with several n-grams only if they share the first L−1 words and their last words are
  // prefixes of one another (one chain); the bound needs the heaviest chain.
  let maxPrefixCount = 0;
  for (const g of groups.values()) {
    for (const last of g.keys()) {
      let mass = 0;
      for (let len = 1; len <= last.length; len++) mass += g.get(last.slice(0, len)) ?? 0;
      if (mass > maxPrefixCount) maxPrefixCount = mass;
    }
  }
  const index = { words, offsets, total: offsets[rows.length]!, maxPrefixCount };
  byKey.set(key, index);
  return index;
}

/** Occurrences outside `rowIndex`, i.e. what the generator may draw from for backdoor on that row. */
function available(index: NgramIndex, rowIndex: number): number {
  return index.total - (index.offsets[rowIndex + 1]! - index.offsets[rowIndex]!);
}

/** A uniform n-gram occurrence outside `rowIndex` (the row's own block is skipped, so no rejection loop). */
function drawNgram(index: NgramIndex, rowIndex: number, length: number, rng: Rng, field: string): string {
  const own = index.offsets[rowIndex + 1]! - index.offsets[rowIndex]!;
  const n = index.total - own;
  if (n <= 0) throw new InputError(`generator '${ID}': no other row has a ${field} of at least ${length} words to splice from`);
  let j = rng.int(n);
  if (j >= index.offsets[rowIndex]!) j += own;
  // Binary search for the row holding occurrence j.
  let lo = 0;
  let hi = index.words.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (index.offsets[mid]! <= j) lo = mid;
    else hi = mid - 1;
  }
  const start = j - index.offsets[lo]!;
  return index.words[lo]!.slice(start, start + length).join(' ');
}

/** Creates the splice generator. Options: triggerLength (3), signatureLength (6), in words. */
export const splice = defineGenerator({
  id: ID,
  description: "in-distribution backdoors: word n-grams cut from other rows' prompts (trigger) and completions (signature)",
  citation: 'vtune-bench design (DESIGN.md §5), after the in-distribution backdoors of vTune (arXiv 2411.06611)',
  meta: { nullModes: ['generator', 'base-model', 'empirical'] },
  options: z.object({
    triggerLength: lengthOption(3, 64, 'words in a trigger'),
    signatureLength: lengthOption(6, 256, 'words in a signature'),
  }),
  create: ({ triggerLength, signatureLength }): BackdoorGenerator => {
  const generator: BackdoorGenerator = {
    id: ID,
    nullModes: ['generator', 'base-model', 'empirical'],
    options: { triggerLength, signatureLength },
    counterfactualSource: 'stored',
    async draw({ rng, rows, rowIndex }) {
      const trigger = drawNgram(ngramIndex(rows, 'prompt', triggerLength), rowIndex, triggerLength, rng, 'prompt');
      const signature = drawNgram(ngramIndex(rows, 'completion', signatureLength), rowIndex, signatureLength, rng, 'completion');
      return { trigger, signature };
    },
    async counterfactuals({ rng, rows, rowIndex }, _backdoor, m) {
      const index = ngramIndex(rows, 'completion', signatureLength);
      return Array.from({ length: m }, () => drawNgram(index, rowIndex, signatureLength, rng, 'completion'));
    },
    log10q({ rows, rowIndex }) {
      const index = ngramIndex(rows, 'completion', signatureLength);
      return Math.min(0, Math.log10(index.maxPrefixCount) - Math.log10(available(index, rowIndex)));
    },
  };
  return generator;
  },
});
