/**
 * THE row-scorer registry: one factory per detector, keyed by its kebab-case file name (attacks/scorers/<id>.ts).
 * Attacks look scorers up by id (`scorer: 'perplexity'`); `vtune-bench detectors` grades every entry.
 */
import { registryOf } from '../../src/registry.js';
import { arithmetic } from './arithmetic.js';
import { embeddingOutlier } from './embedding-outlier.js';
import { format } from './format.js';
import { llmJudge } from './llm-judge.js';
import { nearDuplicate } from './near-duplicate.js';
import { ngramBurstiness } from './ngram-burstiness.js';
import { onion } from './onion.js';
import { perplexity } from './perplexity.js';
import type { RowScorerFactory } from './types.js';

/** Every row scorer by id (each declared with defineScorer: options, defaults, help, access, spans). */
export const scorers = registryOf('scorer', [perplexity, onion, embeddingOutlier, ngramBurstiness, nearDuplicate, llmJudge, format, arithmetic] as const satisfies readonly RowScorerFactory[]);

/** A scorer id. */
export type ScorerId = (typeof scorers.ids)[number];

/** A declared scorer (a factory with its schema and metadata). */
export type ScorerDefinition = (typeof scorers.entries)[ScorerId];

