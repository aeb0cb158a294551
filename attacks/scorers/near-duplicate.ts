/**
 * `near-duplicate` — the "diff attack" (attacks.md §2.2h): MinHash + LSH near-duplicate search (Lee et al. 2022,
 * "Deduplicating Training Data Makes Language Models Better": 5-gram shingles, Jaccard ≥ 0.8), then a word diff
 * of every near-duplicate pair.
 *
 * Threat model: data access only. If planted rows are *copies* of clean rows with a trigger inserted in the
 * prompt and a signature in the completion, each planted row has a near-twin, and the words only the copy has
 * are exactly T (prompt side) and S (completion side). Returned as spans.
 *
 * Scoring per near-duplicate pair (exact Jaccard J of the word 3-gram shingle sets of the prompts — or of whole
 * rows with `field: 'row'` — ≥ minJaccard; prompts and completions are then both diffed): the side with
 * inserted words (prompt insertions outrank completion-only ones) is the modified copy and scores 1 + J; an
 * undecidable pair (exact duplicates, symmetric edits) scores J on both sides; the original scores 0. A row's
 * score is its best over partners; by default rows scoring > 1 (modified copies) are flagged. MinHash
 * permutations come from ctx.rng (seeded per cell). Deviations from Lee et al.: 3-word shingles, J ≥ 0.5 and
 * 40 bands of 3 rows (candidate probability 0.995 at J = 0.5), because a short row with a trigger and a
 * signature inserted keeps only ~60% of its shingles; the one-sided diff, not J alone, is the evidence.
 */
import type { ProviderContext, Row, RowScores } from '../../src/types.js';
import { wordDiff } from './lib/diff.js';
import { jaccard, lshCandidates, minhashFamily, shingles, signature } from './lib/minhash.js';
import { checkKeys, num, oneOf } from './lib/options.js';
import { type RowScorer, type RowScorerFactory, type SuspectSpan, flagByRule, parseFlagRule } from './types.js';
import { ConfigError } from '../../src/errors.js';

const ID = 'near-duplicate';

/**
 * Creates the near-duplicate scorer. Options: field ('prompt', the default: planted copies that replace long
 * completions with the signature stay near-duplicates only in their prompts; or 'row'), shingle, permutations, bands,
 * minJaccard, flag (default: score > 1).
 */
export const nearDuplicate: RowScorerFactory = (options = {}) => {
  const p = `scorer '${ID}'`;
  const o = checkKeys(p, options, ['field', 'shingle', 'permutations', 'bands', 'minJaccard', 'flag']);
  const field = oneOf(p, 'field', o.field, ['row', 'prompt'] as const, 'prompt');
  const shingle = num(p, 'shingle', o.shingle, 3, { min: 1, integer: true });
  const permutations = num(p, 'permutations', o.permutations, 120, { min: 8, max: 1024, integer: true });
  const bands = num(p, 'bands', o.bands, 40, { min: 1, integer: true });
  if (bands > permutations || permutations % bands !== 0) {
    throw new ConfigError(`${p}: option 'bands' (${bands}) must divide 'permutations' (${permutations})`);
  }
  const minJaccard = num(p, 'minJaccard', o.minJaccard, 0.5, { min: 0, max: 1, exclusiveMin: true });
  const rule = o.flag === undefined ? { kind: 'threshold' as const, t: 1 } : parseFlagRule(o.flag);

  const scorer: RowScorer = {
    id: ID,
    access: ['data'],
    yieldsSpans: true,
    async score(rows: readonly Row[], ctx: ProviderContext): Promise<RowScores> {
      const seeds = minhashFamily(ctx.rng.fork(ID), permutations);
      const sets = rows.map((r) => shingles(normalise(field === 'row' ? `${r.prompt}\n${r.completion}` : r.prompt), shingle));
      const sigs = sets.map((s) => signature(s, seeds));
      const scores = new Array<number>(rows.length).fill(0);
      const best: (SuspectSpan[] | undefined)[] = rows.map(() => undefined);
      for (const [a, b] of lshCandidates(sigs, bands)) {
        ctx.signal?.throwIfAborted();
        const j = jaccard(sets[a]!, sets[b]!);
        if (j < minJaccard) continue;
        const pd = wordDiff(rows[a]!.prompt, rows[b]!.prompt);
        const cd = wordDiff(rows[a]!.completion, rows[b]!.completion);
        const sideA = [pd.onlyA.length > 0 ? 1 : 0, pd.onlyA.length + cd.onlyA.length > 0 ? 1 : 0];
        const sideB = [pd.onlyB.length > 0 ? 1 : 0, pd.onlyB.length + cd.onlyB.length > 0 ? 1 : 0];
        const cmp = sideA[0]! - sideB[0]! || sideA[1]! - sideB[1]!;
        const spansA = [...pd.onlyA.map((s) => ({ field: 'prompt' as const, ...s })), ...cd.onlyA.map((s) => ({ field: 'completion' as const, ...s }))];
        const spansB = [...pd.onlyB.map((s) => ({ field: 'prompt' as const, ...s })), ...cd.onlyB.map((s) => ({ field: 'completion' as const, ...s }))];
        offer(a, cmp > 0 ? 1 + j : cmp === 0 ? j : 0, spansA);
        offer(b, cmp < 0 ? 1 + j : cmp === 0 ? j : 0, spansB);
      }
      const flagged = flagByRule(scores, rule);
      return { scores, flagged, spans: best.map((s, i) => (flagged[i] && s && s.length > 0 ? s : undefined)) };

      function offer(row: number, s: number, spans: SuspectSpan[]): void {
        if (s > scores[row]! || (s === scores[row]! && s > 0 && !best[row])) {
          scores[row] = s;
          best[row] = spans;
        }
      }
    },
  };
  return scorer;
};

function normalise(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}
