/**
 * `runPretrain`: the whole recipe — corpus, tokenizer, packed stream, training, GGUF — as one deterministic
 * function of a PretrainRecipe. The CLI command (src/cli/commands/pretrain.ts) and the recipe test call it.
 *
 * Threat model: none (offline build). Source: DESIGN.md §6.
 */
import { createHash } from 'node:crypto';
import { modelToGguf } from '../engine/load.js';
import type { LlamaModel } from '../engine/model.js';
import { SpmTokenizer } from '../engine/tokenizer.js';
import { corpusDocuments, packStream, trainTokenizer, windowCount } from './corpus.js';
import { modelConfig, type PretrainRecipe } from './recipe.js';
import { pretrainLoop, type PretrainStep } from './train-loop.js';

export { DEFAULT_RECIPE, resolveRecipe, modelConfig, type PretrainRecipe } from './recipe.js';
export type { PretrainStep } from './train-loop.js';

/** Options of runPretrain. */
export interface RunOptions {
  readonly checkpointPath?: string;
  readonly checkpointEvery?: number;
  /** Stop after this many steps (the schedule still spans recipe.steps). */
  readonly stopAfter?: number;
  readonly onStep?: (s: PretrainStep) => void;
  /** Stage messages (corpus size, tokenizer, parameters). */
  readonly log?: (message: string) => void;
  readonly signal?: AbortSignal;
}

/** What runPretrain produced. */
export interface PretrainOutput {
  readonly model: LlamaModel;
  readonly tokenizer: SpmTokenizer;
  /** The GGUF file's bytes. */
  readonly gguf: Uint8Array;
  readonly sha256: string;
  readonly parameters: number;
  /** Losses by 1-based step, for the steps this call ran. */
  readonly losses: ReadonlyMap<number, number>;
  readonly stepsDone: number;
  readonly resumedFrom: number;
  readonly corpus: { readonly documents: number; readonly tokens: number; readonly windows: number };
  readonly seconds: { readonly prepare: number; readonly train: number };
}

/** Runs the recipe (resuming from `checkpointPath` when it exists). */
export async function runPretrain(r: PretrainRecipe, opts: RunOptions = {}): Promise<PretrainOutput> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  const docs = await corpusDocuments(r);
  log(`corpus: ${docs.length} documents from the built-in datasets (${r.rowsPerDataset} rows each)`);
  const tokenizer = new SpmTokenizer(trainTokenizer(r, docs));
  log(`tokenizer: BPE with ${tokenizer.vocabSize} tokens`);
  const stream = packStream(r, docs, tokenizer);
  const config = modelConfig(r, tokenizer.vocabSize);
  const runHash = createHash('sha256')
    .update(JSON.stringify(r))
    .update(JSON.stringify(tokenizer.data.tokens))
    .update(new Uint8Array(stream.buffer, stream.byteOffset, stream.byteLength))
    .digest('hex')
    .slice(0, 16);
  const windows = windowCount(stream, r.seqLen);
  log(`stream: ${stream.length} tokens, ${windows} windows of ${r.seqLen}; ${(r.steps * r.batchSize / windows).toFixed(2)} epochs over ${r.steps} steps; run ${runHash}`);
  const prepare = (Date.now() - t0) / 1000;
  const res = await pretrainLoop(r, config, stream, { runHash, checkpointPath: opts.checkpointPath, checkpointEvery: opts.checkpointEvery, stopAfter: opts.stopAfter, onStep: opts.onStep, signal: opts.signal });
  const gguf = modelToGguf({
    name: r.name,
    config,
    tensors: res.model.tensors(),
    tokenizer,
    extraMetadata: new Map([
      ['vtune.model_id', { type: 'string', value: `local:${r.name}` }],
      ['vtune.pretrain.recipe', { type: 'string', value: JSON.stringify(r) }],
      ['vtune.pretrain.steps_done', { type: 'uint32', value: res.stepsDone }],
    ]),
  });
  return {
    model: res.model,
    tokenizer,
    gguf,
    sha256: createHash('sha256').update(gguf).digest('hex'),
    parameters: res.model.paramCount(),
    losses: res.losses,
    stepsDone: res.stepsDone,
    resumedFrom: res.resumedFrom,
    corpus: { documents: docs.length, tokens: stream.length, windows },
    seconds: { prepare, train: res.seconds },
  };
}
