/**
 * LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"): every attention and MLP
 * projection W gets a trainable update s·B·A with A [r][in], B [out][r], s = alpha/r; W stays frozen. A starts
 * uniform in ±1/√in (as peft's kaiming-uniform), B at zero, so training starts from the base model exactly.
 * Stored transposed like the base weights (At [in][r], Bt [r][out]) so the forward pass is two GEMMs.
 */
import { Rng } from '../rng.js';
import type { LlamaConfig } from './types.js';
import type { EngineExports } from './kernels.js';
import type { ParamLayout } from './model.js';
import { PROJ_NAMES, PROJ_TENSOR, type LoraPtrs, type ProjName } from './transformer.js';

/** Where one adapter's matrices sit in the LoRA block (offsets in floats). */
export interface LoraEntry {
  readonly layer: number;
  readonly proj: ProjName;
  readonly nIn: number;
  readonly nOut: number;
  readonly atOff: number;
  readonly btOff: number;
}

/** Placement of every adapter of a config at a given rank. */
export class LoraLayout {
  readonly entries: LoraEntry[] = [];
  readonly total: number;

  constructor(readonly config: LlamaConfig, readonly rank: number) {
    const kvDim = (config.dim / config.nHeads) * config.nKvHeads;
    const dims: Record<ProjName, [number, number]> = {
      q: [config.dim, config.dim], k: [config.dim, kvDim], v: [config.dim, kvDim], o: [config.dim, config.dim],
      gate: [config.dim, config.hiddenDim], up: [config.dim, config.hiddenDim], down: [config.hiddenDim, config.dim],
    };
    let off = 0;
    const take = (n: number) => {
      const o = off;
      off += Math.ceil(n / 16) * 16;
      return o;
    };
    for (let layer = 0; layer < config.nLayers; layer++) {
      for (const proj of PROJ_NAMES) {
        const [nIn, nOut] = dims[proj];
        this.entries.push({ layer, proj, nIn, nOut, atOff: take(nIn * rank), btOff: take(rank * nOut) });
      }
    }
    this.total = off;
  }

  /** Real trainable parameters. */
  paramCount(): number {
    return this.entries.reduce((n, e) => n + this.rank * (e.nIn + e.nOut), 0);
  }

  /** The adapter of one projection. */
  entry(layer: number, proj: ProjName): LoraEntry {
    return this.entries[layer * PROJ_NAMES.length + PROJ_NAMES.indexOf(proj)]!;
  }
}

/** Seeded init: A uniform in ±1/√in, B = 0. */
export function initLora(block: Float32Array, layout: LoraLayout, seed: number): void {
  const rng = new Rng(`lora-init:${seed}`);
  block.fill(0);
  for (const e of layout.entries) {
    const bound = 1 / Math.sqrt(e.nIn);
    const n = e.nIn * layout.rank;
    for (let i = 0; i < n; i++) block[e.atOff + i] = (2 * rng.float() - 1) * bound;
  }
}

/** Pointer resolver for `netPtrs`: the adapter of (layer, proj) in blocks at base / natBase / gradBase. */
export function loraPtrs(layout: LoraLayout, base: number, natBase: number, gradBase: number, scale: number): (layer: number, proj: ProjName) => LoraPtrs {
  return (layer, proj) => {
    const e = layout.entry(layer, proj);
    return {
      at: base + e.atOff * 4, bt: base + e.btOff * 4, a: natBase + e.atOff * 4, b: natBase + e.btOff * 4,
      gat: gradBase ? gradBase + e.atOff * 4 : 0, gbt: gradBase ? gradBase + e.btOff * 4 : 0, rank: layout.rank, scale,
    };
  };
}

/** Writes A = Atᵀ and B = Btᵀ (needed by the data gradient) into the natural block. */
export function loraNatural(k: EngineExports, layout: LoraLayout, base: number, natBase: number): void {
  for (const e of layout.entries) {
    k.transpose(base + e.atOff * 4, natBase + e.atOff * 4, e.nIn, layout.rank);
    k.transpose(base + e.btOff * 4, natBase + e.btOff * 4, layout.rank, e.nOut);
  }
}

/**
 * Folds the adapters into the base weights: Wt += s·At·Bt (Wt is the transposed weight, [in][out]).
 * `scratch` must hold the largest r×out block; Bt is scaled there so the base block gets one GEMM each.
 */
export function mergeLora(k: EngineExports, layout: LoraLayout, model: ParamLayout, paramBase: number, loraBase: number, scale: number, scratch: number): void {
  for (const e of layout.entries) {
    const wt = paramBase + model.slot(`blk.${e.layer}.${PROJ_TENSOR[e.proj]}.weight`).offset * 4;
    const n = layout.rank * e.nOut;
    k.copyF(loraBase + e.btOff * 4, scratch, n);
    k.scale(scratch, n, scale);
    k.gemm(loraBase + e.atOff * 4, layout.rank, 1, scratch, e.nOut, wt, e.nOut, e.nIn, layout.rank, e.nOut, 1);
  }
}

/** Largest r×out block of a layout (for the merge scratch). */
export function maxBtSize(layout: LoraLayout): number {
  return layout.entries.reduce((m, e) => Math.max(m, layout.rank * e.nOut), 0);
}
