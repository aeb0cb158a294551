/**
 * A Llama-architecture model whose parameters live in WebAssembly memory. Internally every matrix is stored
 * transposed ([in][out], so a linear layer is one GEMM against it) and `token_embd` as [dim][vocab] (which is
 * also the tied output projection); norm vectors sit after all matrices so that AdamW can decay the matrix
 * block only. `tensors()` converts back to GGUF names and [out][in] layout.
 */
import { EngineError } from '../errors.js';
import { Rng } from '../rng.js';
import { type LlamaConfig, type LlamaTensors, tensorShapes } from './types.js';
import { Arena } from './kernels.js';

/** Where one tensor sits in a parameter block (offsets and sizes in floats). */
export interface TensorSlot {
  readonly name: string;
  readonly offset: number;
  /** GGUF shape: [rows(out)][cols(in)] for matrices, [n] for vectors. */
  readonly shape: readonly number[];
  readonly size: number;
  /** Matrices are stored transposed ([cols][rows]). */
  readonly matrix: boolean;
}

/** The placement of every tensor of a config in one contiguous float block. */
export class ParamLayout {
  readonly slots = new Map<string, TensorSlot>();
  /** Floats in the block (including 16-byte alignment gaps, which stay zero). */
  readonly total: number;
  /** Floats at the start that hold matrices (weight-decayed); the rest are norm vectors. */
  readonly matrixFloats: number;

  constructor(readonly config: LlamaConfig) {
    const shapes = tensorShapes(config);
    let off = 0;
    const place = (name: string, shape: readonly number[]) => {
      const size = shape.reduce((a, b) => a * b, 1);
      this.slots.set(name, { name, offset: off, shape, size, matrix: shape.length === 2 });
      off += Math.ceil(size / 16) * 16;
    };
    for (const [name, shape] of shapes) if (shape.length === 2) place(name, shape);
    this.matrixFloats = off;
    for (const [name, shape] of shapes) if (shape.length !== 2) place(name, shape);
    this.total = off;
  }

  /** The slot of a tensor (throws on unknown names). */
  slot(name: string): TensorSlot {
    const s = this.slots.get(name);
    if (!s) throw new EngineError(`no tensor '${name}' in this model`);
    return s;
  }

  /** Real parameters (without alignment gaps). */
  paramCount(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.size;
    return n;
  }
}

/** Checks a config's numbers; every message names the field at fault. */
export function validateConfig(c: LlamaConfig): void {
  const ints: (keyof LlamaConfig)[] = ['vocabSize', 'dim', 'nLayers', 'nHeads', 'nKvHeads', 'hiddenDim', 'contextLength'];
  for (const key of ints) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new EngineError(`model config: ${key} must be a positive integer, got ${String(v)}`);
  }
  if (c.dim % c.nHeads !== 0) throw new EngineError(`model config: dim ${c.dim} is not divisible by nHeads ${c.nHeads}`);
  if (c.nHeads % c.nKvHeads !== 0) throw new EngineError(`model config: nHeads ${c.nHeads} is not divisible by nKvHeads ${c.nKvHeads}`);
  if ((c.dim / c.nHeads) % 2 !== 0) throw new EngineError(`model config: head size ${c.dim / c.nHeads} must be even for RoPE`);
  if (!(c.normEps > 0)) throw new EngineError(`model config: normEps must be > 0, got ${c.normEps}`);
  if (!(c.ropeTheta > 0)) throw new EngineError(`model config: ropeTheta must be > 0, got ${c.ropeTheta}`);
}

/** Copies a GGUF-layout tensor into its internal place (transposing matrices). */
export function writeTensor(block: Float32Array, slot: TensorSlot, data: Float32Array): void {
  if (!slot.matrix) {
    block.set(data, slot.offset);
    return;
  }
  const [rows, cols] = slot.shape as [number, number];
  const o = slot.offset;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) block[o + c * rows + r] = data[base + c]!;
  }
}

/** Reads a tensor back into GGUF layout. */
export function readTensor(block: Float32Array, slot: TensorSlot): Float32Array {
  const out = new Float32Array(slot.size);
  if (!slot.matrix) {
    out.set(block.subarray(slot.offset, slot.offset + slot.size));
    return out;
  }
  const [rows, cols] = slot.shape as [number, number];
  const o = slot.offset;
  for (let c = 0; c < cols; c++) {
    const base = o + c * rows;
    for (let r = 0; r < rows; r++) out[r * cols + c] = block[base + r]!;
  }
  return out;
}

/** A Llama model in WebAssembly memory; see the module comment for its layout. */
export class LlamaModel {
  /** Parameter block placement. */
  readonly layout: ParamLayout;
  /** The memory, kernels and allocator that hold the parameters (inference scratch goes above them). */
  readonly arena: Arena;
  /** Byte address of the parameter block. */
  readonly paramPtr: number;
  private disposed = false;

  private constructor(readonly config: LlamaConfig) {
    validateConfig(config);
    this.config = Object.freeze({ ...config });
    this.layout = new ParamLayout(this.config);
    this.arena = new Arena();
    this.paramPtr = this.arena.alloc(this.layout.total);
  }

  /** A model from GGUF tensors (copied; shapes checked) or seeded random init (normal(0, scale), norms = 1). */
  static create(config: LlamaConfig, init: LlamaTensors | { seed: number; scale?: number }): LlamaModel {
    const model = new LlamaModel(config);
    const block = model.params();
    if (init instanceof Map) {
      for (const slot of model.layout.slots.values()) {
        const data = init.get(slot.name);
        if (!data) throw new EngineError(`model tensors: '${slot.name}' is missing`);
        if (data.length !== slot.size) {
          throw new EngineError(`model tensors: '${slot.name}' has ${data.length} values, expected ${slot.size} (shape [${slot.shape.join(', ')}])`);
        }
        writeTensor(block, slot, data);
      }
      for (const name of init.keys()) {
        if (!model.layout.slots.has(name)) throw new EngineError(`model tensors: unexpected tensor '${name}' for this config${name === 'output.weight' ? ' (config says tiedEmbeddings)' : ''}`);
      }
      return model;
    }
    const { seed, scale = 0.02 } = init as { seed: number; scale?: number };
    if (!Number.isFinite(seed)) throw new EngineError(`model init: seed must be a finite number, got ${String(seed)}`);
    if (!(scale > 0)) throw new EngineError(`model init: scale must be > 0, got ${String(scale)}`);
    const rng = new Rng(`llama-init:${seed}`);
    // Residual-branch outputs get scale/√(2L) (GPT-2) so that deep random models start with a stable stream.
    const resid = scale / Math.sqrt(2 * config.nLayers);
    for (const slot of model.layout.slots.values()) {
      const view = block.subarray(slot.offset, slot.offset + slot.size);
      if (!slot.matrix) {
        view.fill(1);
        continue;
      }
      const s = /attn_output|ffn_down/.test(slot.name) ? resid : scale;
      for (let i = 0; i < view.length; i++) view[i] = rng.normal() * s;
    }
    return model;
  }

  /** A model whose internal parameter block is copied from `params` (used by training and clone). */
  static fromBlock(config: LlamaConfig, params: Float32Array): LlamaModel {
    const model = new LlamaModel(config);
    model.params().set(params.subarray(0, model.layout.total));
    return model;
  }

  /** A live view of the internal parameter block. */
  params(): Float32Array {
    this.check();
    return this.arena.f32(this.paramPtr, this.layout.total);
  }

  /** Fresh copies of every tensor by GGUF name, in GGUF layout. */
  tensors(): Map<string, Float32Array> {
    const block = this.params();
    const out = new Map<string, Float32Array>();
    for (const slot of this.layout.slots.values()) out.set(slot.name, readTensor(block, slot));
    return out;
  }

  /** An independent copy. */
  clone(): LlamaModel {
    return LlamaModel.fromBlock(this.config, this.params());
  }

  /** Number of parameters. */
  paramCount(): number {
    return this.layout.paramCount();
  }

  /**
   * Frees the model's memory (its arena goes back to the engine's free list: kernels.ts); any later use
   * throws. Idempotent.
   */
  dispose(): void {
    this.disposed = true;
    this.arena.free();
  }

  /** Throws if disposed. */
  check(): void {
    if (this.disposed) throw new EngineError('this model was disposed');
  }
}
