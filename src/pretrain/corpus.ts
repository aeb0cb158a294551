/**
 * The pretraining corpus: the built-in domains' text, the BPE tokenizer learned from it, and the packed token
 * windows the model trains on.
 *
 * Each built-in dataset row gives two documents — its prompt and its completion, separately — so the base model
 * learns the domains' language (stories, fact paragraphs, word problems, JSON lists, JS functions, headlines)
 * but never sees a prompt followed by its answer: solving the tasks stays the fine-tune's job, which is what
 * the benchmark measures. Documents are `[BOS] text [EOS]`, shuffled, concatenated and cut into windows
 * (llama2.c's packing), so no compute is spent on padding.
 *
 * Threat model: none. Source: llama2.c (tinystories pretokenize + packed batches); the datasets in
 * src/datasets/builtin.
 */
import { datasets, loadDataset } from '../datasets/index.js';
import { trainBpe } from '../engine/bpe-trainer.js';
import { SpmTokenizer, type TokenizerData } from '../engine/tokenizer.js';
import { Rng } from '../rng.js';
import type { PretrainRecipe } from './recipe.js';

/** The built-in dataset seeds used for the corpus sit far from the small seeds benchmark runs use. */
export const CORPUS_SEED_OFFSET = 7_000_000;

/** The corpus documents, in a fixed order (dataset by dataset, row by row, prompt before completion). */
export async function corpusDocuments(r: PretrainRecipe): Promise<string[]> {
  const docs: string[] = [];
  for (const id of datasets.ids) {
    const d = await loadDataset(id, { seed: CORPUS_SEED_OFFSET + r.seed, size: r.rowsPerDataset, heldOut: 0 });
    for (const row of d.train) {
      if (row.prompt.length > 0) docs.push(row.prompt);
      if (row.completion.length > 0) docs.push(row.completion);
    }
  }
  return docs;
}

/** The recipe's tokenizer, learned from every corpus document. */
export function trainTokenizer(r: PretrainRecipe, docs: readonly string[]): TokenizerData {
  return trainBpe(docs, { vocabSize: r.vocabSize });
}

/** The packed training stream: every document as `[BOS] text [EOS]`, in a seeded shuffled order. */
export function packStream(r: PretrainRecipe, docs: readonly string[], tok: SpmTokenizer): Int32Array {
  const order = new Rng(`vtune-bench|pretrain|${r.seed}|doc-order`).shuffle(docs.map((_, i) => i));
  const parts: number[][] = [];
  let total = 0;
  for (const i of order) {
    const ids = tok.encode(docs[i]!, { bos: true });
    ids.push(tok.eos);
    parts.push(ids);
    total += ids.length;
  }
  const out = new Int32Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Number of whole `seqLen`-token windows in a stream. */
export function windowCount(stream: Int32Array, seqLen: number): number {
  return Math.floor(stream.length / seqLen);
}

/**
 * The window indices of optimizer step `step`: epoch e's order is its own seeded permutation, so a resumed run
 * draws exactly the batches an uninterrupted one would.
 */
export function batchWindows(r: PretrainRecipe, nWindows: number, step: number, cache: Map<number, number[]> = new Map()): number[] {
  const perEpoch = Math.floor(nWindows / r.batchSize);
  if (perEpoch < 1) throw new RangeError(`pretrain: ${nWindows} windows cannot fill one batch of ${r.batchSize}`);
  const epoch = Math.floor(step / perEpoch);
  let perm = cache.get(epoch);
  if (!perm) {
    perm = new Rng(`vtune-bench|pretrain|${r.seed}|epoch|${epoch}`).shuffle(Array.from({ length: nWindows }, (_, i) => i));
    cache.clear();
    cache.set(epoch, perm);
  }
  const at = (step % perEpoch) * r.batchSize;
  return perm.slice(at, at + r.batchSize);
}
