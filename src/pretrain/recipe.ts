/**
 * The recipe of the project's own base model (`vtb-base`): every choice that determines its bytes, in one
 * validated object. The same recipe and thread count reproduce the same file (the engine is bit-reproducible).
 *
 * Threat model: none (offline build step); options come from the command line, so each one is checked and a bad
 * value names the option and what was expected.
 * Source: DESIGN.md §6; llama2.c's tinystories recipe (packed windows, AdamW, warmup + cosine).
 */
import { ConfigError } from '../errors.js';
import type { LlamaConfig } from '../engine/types.js';

/** Everything the pretraining run depends on. */
export interface PretrainRecipe {
  /** Model name (`general.name`), also the default output file stem. */
  readonly name: string;
  /** Seeds the corpus, the tokenizer's sample, the init and the batch order. */
  readonly seed: number;
  /** Rows generated from each built-in dataset (train split) for the corpus. */
  readonly rowsPerDataset: number;
  /** BPE vocabulary size (with the 3 special and 256 byte tokens). */
  readonly vocabSize: number;
  /** Architecture (vocabSize is taken from the tokenizer). */
  readonly dim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly hiddenDim: number;
  readonly contextLength: number;
  /** Training window (tokens per sequence), ≤ contextLength. */
  readonly seqLen: number;
  readonly batchSize: number;
  readonly steps: number;
  readonly learningRate: number;
  readonly warmupSteps: number;
  /** Final LR as a fraction of learningRate (cosine). */
  readonly minLrRatio: number;
  readonly weightDecay: number;
  /** Initial weight scale (normal std). */
  readonly initScale: number;
  /** Training threads: fixed by the recipe, because the thread count is part of what the bytes depend on. */
  readonly threads: number;
}

/** The committed base model's recipe (models/README.md records the exact run). */
export const DEFAULT_RECIPE: PretrainRecipe = Object.freeze({
  name: 'vtb-base',
  seed: 1,
  rowsPerDataset: 12000,
  vocabSize: 1024,
  dim: 128,
  nLayers: 4,
  nHeads: 4,
  nKvHeads: 4,
  hiddenDim: 352,
  contextLength: 512,
  seqLen: 128,
  batchSize: 16,
  steps: 4000,
  learningRate: 3e-3,
  warmupSteps: 50,
  minLrRatio: 0.1,
  weightDecay: 0.05,
  initScale: 0.02,
  threads: 2,
});

const INT_KEYS = ['seed', 'rowsPerDataset', 'vocabSize', 'dim', 'nLayers', 'nHeads', 'nKvHeads', 'hiddenDim', 'contextLength', 'seqLen', 'batchSize', 'steps', 'warmupSteps', 'threads'] as const;
const NUM_KEYS = ['learningRate', 'minLrRatio', 'weightDecay', 'initScale'] as const;

/** DEFAULT_RECIPE with `overrides` applied, checked; an unknown or bad option is a ConfigError naming it. */
export function resolveRecipe(overrides: Partial<Record<keyof PretrainRecipe, unknown>> = {}): PretrainRecipe {
  const known = Object.keys(DEFAULT_RECIPE);
  for (const key of Object.keys(overrides)) {
    if (!known.includes(key)) throw new ConfigError(`pretrain: unknown recipe option '${key}' (known: ${known.join(', ')})`);
  }
  const r = { ...DEFAULT_RECIPE, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) } as Record<string, unknown>;
  if (typeof r.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(r.name)) throw new ConfigError(`pretrain: option 'name' must be letters, digits, '.', '_' or '-', got ${String(r.name)}`);
  for (const k of INT_KEYS) {
    const v = r[k];
    const min = k === 'seed' || k === 'warmupSteps' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new ConfigError(`pretrain: option '${k}' must be an integer ≥ ${min}, got ${String(v)}`);
  }
  for (const k of NUM_KEYS) {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`pretrain: option '${k}' must be a non-negative number, got ${String(v)}`);
  }
  const rec = r as unknown as PretrainRecipe;
  if (!(rec.learningRate > 0)) throw new ConfigError('pretrain: option learningRate must be > 0');
  if (rec.minLrRatio > 1) throw new ConfigError(`pretrain: option 'minLrRatio' must be in [0, 1], got ${rec.minLrRatio}`);
  if (rec.seqLen < 2 || rec.seqLen > rec.contextLength) throw new ConfigError(`pretrain: option 'seqLen' must be from 2 to contextLength (${rec.contextLength}), got ${rec.seqLen}`);
  if (rec.vocabSize < 260) throw new ConfigError(`pretrain: option 'vocabSize' must be ≥ 260 (3 special + 256 byte tokens + 1), got ${rec.vocabSize}`);
  if (rec.dim % rec.nHeads !== 0 || (rec.dim / rec.nHeads) % 2 !== 0) throw new ConfigError(`pretrain: 'dim' (${rec.dim}) must split into 'nHeads' (${rec.nHeads}) heads of even size`);
  if (rec.nHeads % rec.nKvHeads !== 0) throw new ConfigError(`pretrain: 'nHeads' (${rec.nHeads}) must be a multiple of 'nKvHeads' (${rec.nKvHeads})`);
  if (rec.warmupSteps >= rec.steps) throw new ConfigError(`pretrain: 'warmupSteps' (${rec.warmupSteps}) must be below 'steps' (${rec.steps})`);
  return Object.freeze({ ...rec });
}

/** The engine config of a recipe, once the tokenizer's size is known. */
export function modelConfig(r: PretrainRecipe, vocabSize: number): LlamaConfig {
  return {
    vocabSize,
    dim: r.dim,
    nLayers: r.nLayers,
    nHeads: r.nHeads,
    nKvHeads: r.nKvHeads,
    hiddenDim: r.hiddenDim,
    contextLength: r.contextLength,
    normEps: 1e-5,
    ropeTheta: 10000,
    tiedEmbeddings: true,
  };
}
