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
import { defineScorer, z } from '../../src/plugins/define.js';
import { type RowScorer, type SuspectSpan, flagByRule, flagRuleSchema } from './types.js';

const ID = 'near-duplicate';

const OPTIONS = z
  .object({
    field: z
      .enum(['row', 'prompt'])
      .default('prompt')
      .describe("what is compared: 'prompt' (planted copies that replace long completions with the signature stay near-duplicates only in their prompts) or 'row'"),
    shingle: z.int().min(1).default(3).describe('words per shingle'),
    permutations: z.int().min(8).max(1024).default(120).describe('MinHash permutations'),
    bands: z.int().min(1).default(40).describe("LSH bands (must divide 'permutations')"),
    minJaccard: z.number().gt(0).lte(1).default(0.5).describe('least Jaccard similarity of a near-duplicate pair'),
    flag: flagRuleSchema.optional().describe('how scores become flags (default: score > 1)'),
  })
  .superRefine((o, ctx) => {
    if (o.bands > o.permutations || o.permutations % o.bands !== 0) {
      ctx.addIssue({ code: 'custom', path: ['bands'], message: `must divide 'permutations' (${o.permutations}), got ${o.bands}` });
    }
  });

/** The near-duplicate scorer. */
export const nearDuplicate = defineScorer({
  id: ID,
  description: 'near-duplicate rows (MinHash + LSH) and the words in which they differ: planted copies of a host row',
  citation: 'attacks.md §2.2h; Lee et al., "Deduplicating Training Data Makes Language Models Better", ACL 2022',
  access: ['data'],
  yieldsSpans: true,
  options: OPTIONS,
  create,
});

/** Creates the scorer from validated options. */
function create(o: z.output<typeof OPTIONS>): RowScorer {
  const { field, shingle, permutations, bands, minJaccard } = o;
  const rule = o.flag ?? { kind: 'threshold' as const, t: 1 };

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
}

function normalise(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}
