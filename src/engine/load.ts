/**
 * Llama models in and out of GGUF: a file becomes { config, tensors, tokenizer }, and a model (with any LoRA
 * already merged by the core) plus its tokenizer becomes a GGUF v3 file that llama.cpp loads.
 *
 * Threat model: the file is untrusted input. Every tensor the config implies must be present with exactly the
 * implied shape; an unexpected tensor (a bias, a rope scaling table) is refused rather than silently ignored,
 * because this engine would compute something else than the model's authors meant.
 *
 * Source: llama.cpp's llama-arch.cpp / llama-model.cpp (LLM_ARCH_LLAMA keys and tensor names) and
 * gguf-py/gguf/constants.py.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { EngineError } from '../errors.js';
import { GGML_TYPES, ggmlTypeName, metaArray, metaNumber, metaString, parseGguf, tensorF32, writeGguf, type GgufFile, type GgufValue } from './gguf.js';
import { SpmTokenizer, TOKEN_TYPE, type TokenizerData } from './tokenizer.js';
import { tensorShapes, type LlamaConfig, type LlamaTensors } from './types.js';

/** A model file's contents, ready for the compute core. */
export interface LoadedModel {
  /** `general.name`, or the file name. */
  readonly name: string;
  readonly config: LlamaConfig;
  readonly tensors: LlamaTensors;
  readonly tokenizer: SpmTokenizer;
  /** All metadata as read (for inspection). */
  readonly metadata: ReadonlyMap<string, GgufValue>;
}

/** Reads a llama GGUF file from disk. */
export async function loadModelFile(path: string): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new EngineError(`cannot read model file ${path}: ${(cause as Error).message}`, { cause });
  }
  return loadModelBytes(bytes, path);
}

/** Parses a llama GGUF file held in memory; `source` names it in errors. */
export function loadModelBytes(bytes: Uint8Array, source = 'GGUF data'): LoadedModel {
  const file = parseGguf(bytes, source);
  const arch = metaString(file, 'general.architecture');
  if (arch !== 'llama') {
    throw new EngineError(`${source}: general.architecture is ${arch === undefined ? 'missing' : `'${arch}'`}; this engine only runs 'llama' models`);
  }
  const config = configFromGguf(file);
  const expected = tensorShapes(config);
  const tensors = new Map<string, Float32Array>();
  for (const info of file.tensors) {
    const shape = expected.get(info.name);
    if (!shape) {
      throw new EngineError(`${source}: unexpected tensor '${info.name}' (${ggmlTypeName(info.type)} [${info.shape.join(', ')}]); this engine supports plain llama blocks without biases or rope scaling tables`);
    }
    const want = [...shape].reverse(); // GGUF lists ne0 (columns) first
    if (want.length !== info.shape.length || want.some((d, i) => d !== info.shape[i])) {
      throw new EngineError(`${source}: tensor '${info.name}' has shape [${info.shape.join(', ')}] but the config (dim ${config.dim}, ${config.nHeads} heads, ${config.nKvHeads} kv heads, ffn ${config.hiddenDim}, vocab ${config.vocabSize}) implies [${want.join(', ')}] (GGUF order)`);
    }
    tensors.set(info.name, tensorF32(file, info.name));
  }
  for (const name of expected.keys()) if (!tensors.has(name)) throw new EngineError(`${source}: tensor '${name}' is missing`);
  const tokenizer = new SpmTokenizer(tokenizerFromGguf(file));
  if (tokenizer.vocabSize !== config.vocabSize) {
    throw new EngineError(`${source}: the tokenizer has ${tokenizer.vocabSize} tokens but token_embd.weight has ${config.vocabSize} rows`);
  }
  return { name: metaString(file, 'general.name') ?? source, config, tensors, tokenizer, metadata: file.metadata };
}

/** The model's LlamaConfig from `llama.*` metadata (vocab size from token_embd; tied when output.weight is absent). */
export function configFromGguf(file: GgufFile): LlamaConfig {
  const src = file.source;
  const need = (key: string): number => {
    const v = metaNumber(file, `llama.${key}`);
    if (v === undefined) throw new EngineError(`${src}: metadata 'llama.${key}' is missing`);
    return v;
  };
  const dim = need('embedding_length');
  const nHeads = need('attention.head_count');
  const nKvHeads = metaNumber(file, 'llama.attention.head_count_kv') ?? nHeads;
  const embd = file.tensors.find((t) => t.name === 'token_embd.weight');
  if (!embd) throw new EngineError(`${src}: tensor 'token_embd.weight' is missing`);
  const vocabSize = embd.shape[1] ?? 0;
  const config: LlamaConfig = {
    vocabSize,
    dim,
    nLayers: need('block_count'),
    nHeads,
    nKvHeads,
    hiddenDim: need('feed_forward_length'),
    contextLength: need('context_length'),
    normEps: metaNumber(file, 'llama.attention.layer_norm_rms_epsilon') ?? 1e-5,
    ropeTheta: metaNumber(file, 'llama.rope.freq_base') ?? 10000,
    tiedEmbeddings: !file.tensors.some((t) => t.name === 'output.weight'),
  };
  validateConfig(config, src);
  const scaling = metaString(file, 'llama.rope.scaling.type');
  if (scaling !== undefined && scaling !== 'none') {
    throw new EngineError(`${src}: llama.rope.scaling.type is '${scaling}'; this engine implements plain RoPE only`);
  }
  const ropeDims = metaNumber(file, 'llama.rope.dimension_count');
  if (ropeDims !== undefined && ropeDims !== dim / nHeads) {
    throw new EngineError(`${src}: llama.rope.dimension_count is ${ropeDims}; this engine rotates the whole head (${dim / nHeads} dims)`);
  }
  return config;
}

/** Checks a config's integers and divisibility; `where` names the source in errors. */
export function validateConfig(c: LlamaConfig, where: string): void {
  for (const k of ['vocabSize', 'dim', 'nLayers', 'nHeads', 'nKvHeads', 'hiddenDim', 'contextLength'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1 || c[k] > 1 << 24) throw new EngineError(`${where}: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.dim % c.nHeads !== 0) throw new EngineError(`${where}: dim ${c.dim} is not divisible by ${c.nHeads} heads`);
  if (c.nHeads % c.nKvHeads !== 0) throw new EngineError(`${where}: ${c.nHeads} heads are not divisible by ${c.nKvHeads} kv heads`);
  if ((c.dim / c.nHeads) % 2 !== 0) throw new EngineError(`${where}: head size ${c.dim / c.nHeads} must be even for rotary embeddings`);
  if (!(c.normEps > 0) || !(c.ropeTheta > 0)) throw new EngineError(`${where}: normEps and ropeTheta must be positive`);
}

/** The tokenizer stored in `tokenizer.ggml.*` (only the `llama` SentencePiece model is supported). */
export function tokenizerFromGguf(file: GgufFile): TokenizerData {
  const src = file.source;
  const model = metaString(file, 'tokenizer.ggml.model');
  if (model !== 'llama') {
    throw new EngineError(`${src}: tokenizer.ggml.model is ${model === undefined ? 'missing' : `'${model}'`}; only the 'llama' (SentencePiece BPE) tokenizer is supported`);
  }
  const tokensArr = metaArray(file, 'tokenizer.ggml.tokens');
  if (!tokensArr || tokensArr.itemType !== 'string') throw new EngineError(`${src}: tokenizer.ggml.tokens must be an array of strings`);
  const tokens = tokensArr.value as string[];
  const n = tokens.length;
  const numbers = (key: string): number[] | undefined => {
    const a = metaArray(file, key);
    if (!a) return undefined;
    if (a.value.length !== n || a.value.some((v) => typeof v !== 'number')) {
      throw new EngineError(`${src}: ${key} must be ${n} numbers, one per token`);
    }
    return a.value as number[];
  };
  const scores = numbers('tokenizer.ggml.scores') ?? new Array<number>(n).fill(0);
  const id = (key: string, dflt: number): number => metaNumber(file, `tokenizer.ggml.${key}`) ?? dflt;
  const bos = id('bos_token_id', 1);
  const eos = id('eos_token_id', 2);
  const unk = id('unknown_token_id', 0);
  const types =
    numbers('tokenizer.ggml.token_type') ??
    tokens.map((t, i) => (i === unk ? TOKEN_TYPE.UNKNOWN : i === bos || i === eos ? TOKEN_TYPE.CONTROL : /^<0x[0-9A-Fa-f]{2}>$/.test(t) ? TOKEN_TYPE.BYTE : TOKEN_TYPE.NORMAL));
  const prefix = file.metadata.get('tokenizer.ggml.add_space_prefix');
  return { tokens, scores, types, bos, eos, unk, addSpacePrefix: prefix?.type === 'bool' ? prefix.value : true };
}

/** What `modelToGguf` writes. */
export interface SaveableModel {
  readonly name: string;
  readonly config: LlamaConfig;
  readonly tensors: LlamaTensors;
  readonly tokenizer: TokenizerData | SpmTokenizer;
  /** More metadata to store after the standard keys (e.g. `vtune.model_id`); standard keys cannot be replaced. */
  readonly extraMetadata?: ReadonlyMap<string, GgufValue>;
}

/**
 * A GGUF v3 file of the model: `general.*`, `llama.*` and `tokenizer.ggml.*` metadata as llama.cpp expects,
 * every tensor as F32 in the standard order, 32-byte alignment. Deterministic: same model, same bytes.
 */
export function modelToGguf(model: SaveableModel): Uint8Array {
  const c = model.config;
  validateConfig(c, `model '${model.name}'`);
  const tok = model.tokenizer instanceof SpmTokenizer ? model.tokenizer.data : model.tokenizer;
  if (tok.tokens.length !== c.vocabSize) {
    throw new EngineError(`model '${model.name}': the tokenizer has ${tok.tokens.length} tokens but the config says vocab ${c.vocabSize}`);
  }
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  const f32 = (value: number): GgufValue => ({ type: 'float32', value });
  const meta = new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: model.name }],
    ['general.alignment', u32(32)],
    ['general.file_type', u32(0)], // LLAMA_FTYPE_ALL_F32
    ['llama.vocab_size', u32(c.vocabSize)],
    ['llama.context_length', u32(c.contextLength)],
    ['llama.embedding_length', u32(c.dim)],
    ['llama.block_count', u32(c.nLayers)],
    ['llama.feed_forward_length', u32(c.hiddenDim)],
    ['llama.rope.dimension_count', u32(c.dim / c.nHeads)],
    ['llama.attention.head_count', u32(c.nHeads)],
    ['llama.attention.head_count_kv', u32(c.nKvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', f32(c.normEps)],
    ['llama.rope.freq_base', f32(c.ropeTheta)],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: [...tok.tokens] }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'float32', value: Array.from(tok.scores) }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'int32', value: Array.from(tok.types) }],
    ['tokenizer.ggml.bos_token_id', u32(tok.bos)],
    ['tokenizer.ggml.eos_token_id', u32(tok.eos)],
    ['tokenizer.ggml.unknown_token_id', u32(tok.unk)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ['tokenizer.ggml.add_space_prefix', { type: 'bool', value: tok.addSpacePrefix ?? true }],
  ]);
  for (const [k, v] of model.extraMetadata ?? []) {
    if (meta.has(k)) throw new EngineError(`model '${model.name}': extra metadata may not replace the standard key '${k}'`);
    meta.set(k, v);
  }
  const shapes = tensorShapes(c);
  const out = [...shapes].map(([name, shape]) => {
    const data = model.tensors.get(name);
    if (!data) throw new EngineError(`model '${model.name}': tensor '${name}' is missing`);
    return { name, shape: [...shape].reverse(), data, type: GGML_TYPES.F32 };
  });
  for (const name of model.tensors.keys()) {
    if (!shapes.has(name)) throw new EngineError(`model '${model.name}': tensor '${name}' is not part of a llama model with this config`);
  }
  return writeGguf(meta, out);
}

/**
 * Writes the model to `path` (via a temporary file and a rename, so a crash never leaves half a file). An
 * existing file is never replaced unless `overwrite` is set.
 */
export async function saveModelFile(path: string, model: SaveableModel, options: { readonly overwrite?: boolean } = {}): Promise<void> {
  const bytes = modelToGguf(model);
  if (!options.overwrite && existsSync(path)) throw new EngineError(`refusing to overwrite ${path} (pass overwrite: true to replace it)`);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}
