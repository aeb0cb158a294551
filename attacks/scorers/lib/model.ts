/**
 * Batched, capability-checked model calls for row scorers and inference-stage attacks. Batching bounds memory
 * and lets a long scoring pass be aborted between batches.
 */
import { ConfigError } from '../../../src/errors.js';
import type { ContinuationScore, Model } from '../../../src/types.js';

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The model's `score`, or a ConfigError saying who needs log-probs. */
export function needScore(plugin: string, model: Model): NonNullable<Model['score']> {
  if (!model.score || !model.capabilities.has('logprobs')) {
    throw new ConfigError(`${plugin} needs log-probs, but model '${model.id}' does not provide 'logprobs'`);
  }
  return model.score.bind(model);
}

/** The model's `embed`, or a ConfigError saying who needs embeddings. */
export function needEmbed(plugin: string, model: Model): NonNullable<Model['embed']> {
  if (!model.embed || !model.capabilities.has('embed')) {
    throw new ConfigError(`${plugin} needs embeddings, but model '${model.id}' does not provide 'embed'`);
  }
  return model.embed.bind(model);
}

/** Teacher-forced scores of many items, `batchSize` at a time. */
export async function scoreAll(
  plugin: string,
  model: Model,
  items: readonly { readonly prompt: string; readonly continuation: string }[],
  batchSize: number,
  signal?: AbortSignal,
): Promise<ContinuationScore[]> {
  const score = needScore(plugin, model);
  const out: ContinuationScore[] = [];
  for (const batch of chunks(items, batchSize)) {
    signal?.throwIfAborted();
    const got = await score(batch);
    if (got.length !== batch.length) throw new ConfigError(`${plugin}: model '${model.id}' returned ${got.length} scores for ${batch.length} items`);
    out.push(...got);
  }
  return out;
}

/** Embeddings of many texts, `batchSize` at a time. */
export async function embedAll(plugin: string, model: Model, texts: readonly string[], batchSize: number, signal?: AbortSignal): Promise<Float32Array[]> {
  const embed = needEmbed(plugin, model);
  const out: Float32Array[] = [];
  for (const batch of chunks(texts, batchSize)) {
    signal?.throwIfAborted();
    out.push(...(await embed(batch)));
  }
  return out;
}

/** Mean surprisal (nats/token) of a token log-prob list; 0 for an empty list. */
export function meanSurprisal(logprobs: readonly number[]): number {
  if (logprobs.length === 0) return 0;
  let s = 0;
  for (const lp of logprobs) s -= lp;
  return s / logprobs.length;
}
