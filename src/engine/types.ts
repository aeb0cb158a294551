/**
 * The shapes shared by the embedded engine's parts: the model file reader/writer (gguf.ts, tokenizer.ts) and the
 * compute core (model, training, inference). Tensors use GGUF names and GGUF/llama.cpp layout: a weight matrix
 * of a linear map `in → out` is stored row-major as [out][in] (GGUF ne0 = in, ne1 = out).
 */

/** The hyper-parameters of a Llama-architecture model (GGUF `llama.*` metadata). */
export interface LlamaConfig {
  readonly vocabSize: number;
  /** Embedding width (llama.embedding_length). */
  readonly dim: number;
  /** Transformer blocks (llama.block_count). */
  readonly nLayers: number;
  /** Query heads (llama.attention.head_count). */
  readonly nHeads: number;
  /** Key/value heads, ≤ nHeads, dividing it (llama.attention.head_count_kv): grouped-query attention. */
  readonly nKvHeads: number;
  /** SwiGLU hidden width (llama.feed_forward_length). */
  readonly hiddenDim: number;
  /** Maximum sequence length (llama.context_length). */
  readonly contextLength: number;
  /** RMSNorm epsilon (llama.attention.layer_norm_rms_epsilon). */
  readonly normEps: number;
  /** RoPE base frequency (llama.rope.freq_base); rotation over adjacent pairs (x[2i], x[2i+1]) as llama.cpp's "normal" rope. */
  readonly ropeTheta: number;
  /** true when there is no separate `output.weight` and the output projection reuses `token_embd.weight`. */
  readonly tiedEmbeddings: boolean;
}

/**
 * Weight tensors by GGUF name:
 * `token_embd.weight` [vocab][dim], `output_norm.weight` [dim], `output.weight` [vocab][dim] (absent when tied),
 * and per block i: `blk.i.attn_norm.weight` [dim], `blk.i.attn_q.weight` [dim][dim],
 * `blk.i.attn_k.weight` [kvDim][dim], `blk.i.attn_v.weight` [kvDim][dim], `blk.i.attn_output.weight` [dim][dim],
 * `blk.i.ffn_norm.weight` [dim], `blk.i.ffn_gate.weight` [hidden][dim], `blk.i.ffn_up.weight` [hidden][dim],
 * `blk.i.ffn_down.weight` [dim][hidden]; kvDim = dim / nHeads * nKvHeads.
 */
export type LlamaTensors = ReadonlyMap<string, Float32Array>;

/** The shape ([rows][cols], or [n] for vectors) of every tensor of a config, in GGUF order. */
export function tensorShapes(c: LlamaConfig): Map<string, readonly number[]> {
  const kvDim = (c.dim / c.nHeads) * c.nKvHeads;
  const m = new Map<string, readonly number[]>();
  m.set('token_embd.weight', [c.vocabSize, c.dim]);
  for (let i = 0; i < c.nLayers; i++) {
    m.set(`blk.${i}.attn_norm.weight`, [c.dim]);
    m.set(`blk.${i}.attn_q.weight`, [c.dim, c.dim]);
    m.set(`blk.${i}.attn_k.weight`, [kvDim, c.dim]);
    m.set(`blk.${i}.attn_v.weight`, [kvDim, c.dim]);
    m.set(`blk.${i}.attn_output.weight`, [c.dim, c.dim]);
    m.set(`blk.${i}.ffn_norm.weight`, [c.dim]);
    m.set(`blk.${i}.ffn_gate.weight`, [c.hiddenDim, c.dim]);
    m.set(`blk.${i}.ffn_up.weight`, [c.hiddenDim, c.dim]);
    m.set(`blk.${i}.ffn_down.weight`, [c.dim, c.hiddenDim]);
  }
  m.set('output_norm.weight', [c.dim]);
  if (!c.tiedEmbeddings) m.set('output.weight', [c.vocabSize, c.dim]);
  return m;
}

/** A text ↔ token-id mapping (SentencePiece-style BPE with byte fallback, as in llama GGUF files). */
export interface Tokenizer {
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  /** Token ids of `text`; `bos: true` prepends BOS. No EOS is added. */
  encode(text: string, options?: { readonly bos?: boolean }): number[];
  /** Text of a sequence of ids (byte tokens are reassembled into UTF-8; BOS/EOS are dropped). */
  decode(ids: readonly number[]): string;
}
