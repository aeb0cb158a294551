/**
 * THE row-scorer registry: one factory per detector, keyed by its kebab-case file name (attacks/scorers/<id>.ts).
 * The scorers helper appends its entries here; attacks look scorers up by id (`scorer: 'perplexity'`).
 */
import { defineRegistry } from '../../src/registry.js';
import type { RowScorerFactory } from './types.js';

/** Every row scorer by id. */
export const scorers = defineRegistry('scorer', {} satisfies Record<string, RowScorerFactory> as Record<string, RowScorerFactory>);
