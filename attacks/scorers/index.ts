/**
 * THE row-scorer registry: one factory per detector, keyed by its kebab-case file name (attacks/scorers/<id>.ts).
 * Attacks look scorers up by id (`scorer: 'perplexity'`); `vtune-bench detectors` grades every entry.
 */
import { defineRegistry } from '../../src/registry.js';
import { embeddingOutlier } from './embedding-outlier.js';
import { format } from './format.js';
import { llmJudge } from './llm-judge.js';
import { nearDuplicate } from './near-duplicate.js';
import { ngramBurstiness } from './ngram-burstiness.js';
import { onion } from './onion.js';
import { perplexity } from './perplexity.js';
import type { RowScorerFactory } from './types.js';

const entries = {
  perplexity,
  onion,
  'embedding-outlier': embeddingOutlier,
  'ngram-burstiness': ngramBurstiness,
  'near-duplicate': nearDuplicate,
  'llm-judge': llmJudge,
  format,
} satisfies Record<string, RowScorerFactory>;

/** Every row scorer by id. */
export const scorers = defineRegistry('scorer', entries as Record<keyof typeof entries, RowScorerFactory>);

/** A scorer id. */
export type ScorerId = keyof typeof entries;
