/**
 * `embedding-outlier` — embedding-space outlier detection (attacks.md §2.2i).
 *
 * Threat model: the provider embeds every submitted row with its base model (ctx.base.embed, e.g. mean-pooled
 * hidden states) and looks for rows that sit away from the data's bulk: planted rows whose trigger/signature
 * drag them off the clean manifold.
 *
 * The completion is embedded by default: a planted copy's whole row sits right next to its host row (an
 * inlier), while its signature-bearing completion does not (`field: 'row' | 'prompt'` to change).
 * Scores: kNN (mean cosine distance to the k nearest neighbours) and LOF (Breunig et al. 2000, MinPts = kLof),
 * both exact on L2-normalised Float32Arrays, combined by rank averaging (0..1, higher = more outlying).
 * Source: attacks.md §2.2i (kNN k = 10, LOF k = 20). Isolation Forest and prompt/response coherence are not
 * included. Exact search is O(N²·d): fine up to a few thousand rows.
 */
import type { ProviderContext, Row, RowScores } from '../../src/types.js';
import { knn, lof, meanKnnDistance, normalise } from './lib/knn.js';
import { embedAll } from './lib/model.js';
import { defineScorer, z } from '../../src/plugins/define.js';
import { rankAverage } from './lib/stats.js';
import { DEFAULT_FLAG_RULE, type RowScorer, flagByRule, flagRuleSchema } from './types.js';

const ID = 'embedding-outlier';
const FIELDS = ['row', 'prompt', 'completion'] as const;

const OPTIONS = z.object({
  field: z.enum(FIELDS).default('completion').describe('what is embedded'),
  k: z.int().min(1).default(10).describe('neighbours of the kNN distance'),
  kLof: z.int().min(1).default(20).describe('MinPts of the local outlier factor'),
  batchSize: z.int().min(1).default(32).describe('texts per embed call'),
  maxChars: z.int().min(16).default(2000).describe('characters kept per text (its end)'),
  flag: flagRuleSchema.optional().describe('how scores become flags (default: the top 1.5 %)'),
});

/** The embedding-outlier scorer. */
export const embeddingOutlier = defineScorer({
  id: ID,
  description: 'rows far from the bulk in the base model\'s embedding space (kNN distance and LOF, rank-averaged)',
  citation: 'attacks.md §2.2i; LOF: Breunig et al., SIGMOD 2000',
  access: ['embed'],
  yieldsSpans: false,
  options: OPTIONS,
  create,
});

/** Creates the scorer from validated options. */
function create(o: z.output<typeof OPTIONS>): RowScorer {
  const p = `scorer '${ID}'`;
  const { field, k, kLof, batchSize, maxChars } = o;
  const rule = o.flag ?? DEFAULT_FLAG_RULE;

  const scorer: RowScorer = {
    id: ID,
    access: ['embed'],
    yieldsSpans: false,
    async score(rows: readonly Row[], ctx: ProviderContext): Promise<RowScores> {
      const texts = rows.map((r) => {
        const t = field === 'row' ? `${r.prompt}${r.completion}` : r[field];
        return t.length > maxChars ? t.slice(-maxChars) : t;
      });
      const vectors = await embedAll(p, ctx.base, texts, batchSize, ctx.signal);
      const scores = outlierScores(vectors, k, kLof);
      return { scores, flagged: flagByRule(scores, rule) };
    },
  };
  return scorer;
}

/** Rank-averaged kNN-distance and LOF scores of embedding vectors (exported for tests and benches). */
export function outlierScores(vectors: readonly Float32Array[], k: number, kLof: number): number[] {
  const n = vectors.length;
  if (n < 3) return new Array<number>(n).fill(0);
  const m = normalise(vectors);
  const nb = knn(m, Math.max(k, kLof));
  return rankAverage([meanKnnDistance(nb, k, n), lof(nb, kLof, n)]);
}
