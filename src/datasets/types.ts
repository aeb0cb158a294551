/**
 * The built-in dataset plugin contract: a procedural generator of rows plus the task metric that scores a model's
 * answers on them. Rows are generated one at a time from their own seeded stream (see index.ts), so a dataset of
 * any size is deterministic for its seed and a smaller one is a prefix of a larger one.
 */
import type { Rng } from '../rng.js';
import type { Row, TaskMetric } from '../types.js';

/** A built-in dataset: generates rows and scores answers. */
export interface BuiltinDataset {
  /** Registry id, e.g. `stories`. */
  readonly id: string;
  /** One line for `vtune-bench datasets`. */
  readonly description: string;
  /** One new row drawn from `rng` (pure: everything random comes from `rng`). */
  generate(rng: Rng): Row;
  readonly metric: TaskMetric;
}
