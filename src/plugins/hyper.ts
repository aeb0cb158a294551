/**
 * THE hyper-parameter schema (issue 16, "one of each"): what a user may promise a provider — scenario `hyper`,
 * the pipeline's cell spec, `serve`'s defaults, and every provider's `train` request are checked by this one
 * declaration, so a value accepted at load is accepted by every cell (`epochs: 1.5` used to pass the scenario
 * loader and then fail every cell). Epochs are whole: the OpenAI-compatible APIs take an integer `n_epochs`
 * and `promisedSteps` counts whole passes.
 */
import { ConfigError, type FieldPath } from '../errors.js';
import type { HyperParams } from '../types.js';
import { z } from 'zod';
import { checkValue, type Checked } from './options.js';

/** The hyper-parameter schema (strict: an unknown key is a misspelling, with "did you mean"). */
export const hyperSchema = z.strictObject({
  epochs: z.int().min(1).describe('passes over the training rows'),
  learningRate: z.number().gt(0).describe('peak learning rate'),
  batchSize: z.int().min(1).describe('rows per optimizer step'),
  maxSteps: z.int().min(1).optional().describe('optimizer steps promised (default: ⌈rows × epochs / batchSize⌉)'),
  warmupSteps: z.int().min(0).optional().describe('linear warm-up steps'),
  schedule: z.enum(['cosine', 'linear', 'constant']).optional().describe('learning-rate schedule after warm-up (default cosine)'),
  weightDecay: z.number().min(0).optional().describe('AdamW weight decay'),
  lora: z
    .strictObject({ rank: z.int().min(1).describe('LoRA rank'), alpha: z.number().gt(0).optional().describe('LoRA alpha (default: rank)') })
    .optional()
    .describe('train low-rank adapters instead of every weight'),
  extra: z.record(z.string(), z.unknown()).optional().describe("provider-specific extras (e.g. OpenAI's learning_rate_multiplier)"),
});

// The schema and the HyperParams interface (src/types.ts) describe the same thing: each is assignable to the other.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _same: Same<z.output<typeof hyperSchema>, { -readonly [K in keyof HyperParams]: HyperParams[K] } & { lora?: { rank: number; alpha?: number } }> = true;
void _same;

/** Checks hyper-parameters; problems' paths are relative to the hyper object (`['epochs']`). */
export function checkHyper(value: unknown): Checked<HyperParams> {
  return checkValue(hyperSchema, value, 'field');
}

/**
 * Validated hyper-parameters (the value itself, unchanged: nothing is added, so keys and hashes derived from
 * it do not move), or a ConfigError whose problems sit under `at` (default `['hyper']`) and whose subject
 * names the caller (`local provider`).
 */
export function parseHyper(value: unknown, options: { at?: FieldPath; subject?: string } = {}): HyperParams {
  const r = checkHyper(value);
  if (r.ok) return value as HyperParams;
  const at = options.at ?? ['hyper'];
  throw new ConfigError(
    r.problems.map((p) => ({ path: [...at, ...p.path], message: p.message })),
    options.subject ? { subject: options.subject } : {},
  );
}
