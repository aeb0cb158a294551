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
import { checkKeys, num, oneOf } from './lib/options.js';
import { rankAverage } from './lib/stats.js';
import { type RowScorer, type RowScorerFactory, flagByRule, parseFlagRule } from './types.js';

const ID = 'embedding-outlier';
const FIELDS = ['row', 'prompt', 'completion'] as const;

/** Creates the embedding-outlier scorer. Options: field, k, kLof, batchSize, maxChars, flag. */
export const embeddingOutlier: RowScorerFactory = (options = {}) => {
  const p = `scorer '${ID}'`;
  const o = checkKeys(p, options, ['field', 'k', 'kLof', 'batchSize', 'maxChars', 'flag']);
  const field = oneOf(p, 'field', o.field, FIELDS, 'completion');
  const k = num(p, 'k', o.k, 10, { min: 1, integer: true });
  const kLof = num(p, 'kLof', o.kLof, 20, { min: 1, integer: true });
  const batchSize = num(p, 'batchSize', o.batchSize, 32, { min: 1, integer: true });
  const maxChars = num(p, 'maxChars', o.maxChars, 2000, { min: 16, integer: true });
  const rule = parseFlagRule(o.flag);

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
};

/** Rank-averaged kNN-distance and LOF scores of embedding vectors (exported for tests and benches). */
export function outlierScores(vectors: readonly Float32Array[], k: number, kLof: number): number[] {
  const n = vectors.length;
  if (n < 3) return new Array<number>(n).fill(0);
  const m = normalise(vectors);
  const nb = knn(m, Math.max(k, kLof));
  return rankAverage([meanKnnDistance(nb, k, n), lof(nb, kLof, n)]);
}
