/**
 * The Llama forward and backward passes over B sequences of T tokens, as a sequence of WASM kernel calls on
 * pointers. Everything here is plain numbers (byte addresses), so a training worker can run the same code on
 * the same shared memory. Backward is hand-written for every op; a projection may carry a LoRA adapter
 * (Y += s·X·Aᵀ·Bᵀ), and a gradient pointer of 0 means "frozen: no gradient".
 */
import type { LlamaConfig } from './types.js';
import { type Arena, type EngineExports, mm, mmData, mmWeight } from './kernels.js';
import type { ParamLayout } from './model.js';

/** A LoRA adapter on one projection: At [in][r], Bt [r][out] (trained), their transposes A [r][in], B [out][r]. */
export interface LoraPtrs {
  readonly at: number;
  readonly bt: number;
  readonly a: number;
  readonly b: number;
  readonly gat: number;
  readonly gbt: number;
  readonly rank: number;
  readonly scale: number;
}

/** One linear map: the transposed weight (forward), its natural copy (data gradient), its gradient (0 = frozen). */
export interface Proj {
  readonly w: number;
  readonly wNat: number;
  readonly gw: number;
  readonly lora?: LoraPtrs;
}

/** The seven projections of a block, by role. */
export const PROJ_NAMES = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
/** A projection role. */
export type ProjName = (typeof PROJ_NAMES)[number];
/** GGUF tensor suffix of each projection. */
export const PROJ_TENSOR: Record<ProjName, string> = {
  q: 'attn_q', k: 'attn_k', v: 'attn_v', o: 'attn_output', gate: 'ffn_gate', up: 'ffn_up', down: 'ffn_down',
};

/** Pointers of one block. */
export interface LayerNet extends Record<ProjName, Proj> {
  readonly attnNorm: number;
  readonly gAttnNorm: number;
  readonly ffnNorm: number;
  readonly gFfnNorm: number;
}

/** Every pointer the passes need; serialisable, so it can be posted to a worker. */
export interface NetPtrs {
  readonly emb: number;
  readonly gEmb: number;
  readonly outT: number;
  readonly outNat: number;
  readonly gOut: number;
  readonly outNorm: number;
  readonly gOutNorm: number;
  readonly layers: readonly LayerNet[];
  /** cos/sin table [context][hd/2][2]. */
  readonly rope: number;
}

/**
 * Resolves the pointers of a parameter block at `base`, its natural-layout copy at `natBase` (0: none) and its
 * gradient at `gradBase` (0: frozen). `lora` adds adapters per layer and projection.
 */
export function netPtrs(layout: ParamLayout, base: number, natBase: number, gradBase: number, rope: number, lora?: (layer: number, proj: ProjName) => LoraPtrs | undefined): NetPtrs {
  const c = layout.config;
  const at = (b: number, name: string) => (b ? b + layout.slot(name).offset * 4 : 0);
  const proj = (i: number, p: ProjName): Proj => {
    const name = `blk.${i}.${PROJ_TENSOR[p]}.weight`;
    const l = lora?.(i, p);
    return { w: at(base, name), wNat: at(natBase, name), gw: at(gradBase, name), ...(l ? { lora: l } : {}) };
  };
  const layers: LayerNet[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    layers.push({
      attnNorm: at(base, `blk.${i}.attn_norm.weight`), gAttnNorm: at(gradBase, `blk.${i}.attn_norm.weight`),
      ffnNorm: at(base, `blk.${i}.ffn_norm.weight`), gFfnNorm: at(gradBase, `blk.${i}.ffn_norm.weight`),
      q: proj(i, 'q'), k: proj(i, 'k'), v: proj(i, 'v'), o: proj(i, 'o'), gate: proj(i, 'gate'), up: proj(i, 'up'), down: proj(i, 'down'),
    });
  }
  const outName = c.tiedEmbeddings ? 'token_embd.weight' : 'output.weight';
  return {
    emb: at(base, 'token_embd.weight'), gEmb: at(gradBase, 'token_embd.weight'),
    outT: at(base, outName), outNat: at(natBase, outName), gOut: at(gradBase, outName),
    outNorm: at(base, 'output_norm.weight'), gOutNorm: at(gradBase, 'output_norm.weight'),
    layers, rope,
  };
}

/** Writes the natural ([out][in]) copy of every matrix of the block at `base` into `natBase`. */
export function makeNatural(k: EngineExports, layout: ParamLayout, base: number, natBase: number): void {
  for (const s of layout.slots.values()) {
    if (!s.matrix) continue;
    const [rows, cols] = s.shape as [number, number];
    // Internal storage is [cols][rows]; its transpose is the GGUF [rows][cols] layout.
    k.transpose(base + s.offset * 4, natBase + s.offset * 4, cols, rows);
  }
}

/** Allocates and fills the RoPE cos/sin table (double-precision angles rounded once to f32). */
export function ropeTable(arena: Arena, c: LlamaConfig): number {
  const hd = c.dim / c.nHeads;
  const half = hd / 2;
  const ptr = arena.alloc(c.contextLength * half * 2);
  const t = arena.f32(ptr, c.contextLength * half * 2);
  for (let p = 0; p < c.contextLength; p++) {
    for (let i = 0; i < half; i++) {
      const ang = p * Math.pow(c.ropeTheta, (-2 * i) / hd);
      t[(p * half + i) * 2] = Math.cos(ang);
      t[(p * half + i) * 2 + 1] = Math.sin(ang);
    }
  }
  return ptr;
}

/** Activations kept for the backward pass, per block. */
export interface LayerActs {
  readonly xIn: number; readonly rstd1: number; readonly xn1: number; readonly q: number; readonly k: number; readonly v: number;
  readonly probs: number; readonly att: number; readonly xMid: number; readonly rstd2: number; readonly xn2: number;
  readonly g: number; readonly u: number; readonly h: number;
  /** LoRA intermediate s·X·Aᵀ per projection ([N][r]); 0 without LoRA. */
  readonly lu: Record<ProjName, number>;
}

/** One thread's activation and gradient scratch, sized for up to bMax sequences of tMax tokens. */
export interface Acts {
  readonly bMax: number;
  readonly tMax: number;
  readonly layers: readonly LayerActs[];
  readonly xF: number; readonly rstdF: number; readonly xnF: number; readonly logits: number;
  /** One head's transposed keys (forward) or values (backward): hd·tMax floats of attention scratch. */
  readonly kt: number;
  readonly dx: number; readonly dxn: number; readonly datt: number; readonly dq: number; readonly dk: number; readonly dv: number;
  readonly dgate: number; readonly dup: number; readonly dh: number; readonly tmp: number; readonly dlu: number;
  /** Training only (0 otherwise): the GEMM's packing scratch of the thread that runs shards on these activations (gemm.ts `setScratch`). */
  readonly gemmScratch: number;
}

/** Allocates activations (backward scratch only when `backward`; LoRA buffers when `loraRank` > 0). */
export function allocActs(arena: Arena, c: LlamaConfig, bMax: number, tMax: number, backward: boolean, loraRank = 0): Acts {
  const N = bMax * tMax;
  const kvDim = (c.dim / c.nHeads) * c.nKvHeads;
  const a = (n: number) => arena.alloc(n);
  const layers: LayerActs[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const lu = {} as Record<ProjName, number>;
    for (const p of PROJ_NAMES) lu[p] = loraRank > 0 ? a(N * loraRank) : 0;
    layers.push({
      xIn: a(N * c.dim), rstd1: a(N), xn1: a(N * c.dim), q: a(N * c.dim), k: a(N * kvDim), v: a(N * kvDim),
      probs: a(bMax * c.nHeads * tMax * tMax), att: a(N * c.dim), xMid: a(N * c.dim), rstd2: a(N), xn2: a(N * c.dim),
      g: a(N * c.hiddenDim), u: a(N * c.hiddenDim), h: a(N * c.hiddenDim), lu,
    });
  }
  const xF = a(N * c.dim), rstdF = a(N), xnF = a(N * c.dim), logits = a(N * c.vocabSize);
  const b = (n: number) => (backward ? a(n) : 0);
  return {
    bMax, tMax, layers, xF, rstdF, xnF, logits, kt: a((c.dim / c.nHeads) * tMax),
    dx: b(N * c.dim), dxn: b(N * c.dim), datt: b(N * c.dim), dq: b(N * c.dim), dk: b(N * kvDim), dv: b(N * kvDim),
    dgate: b(N * c.hiddenDim), dup: b(N * c.hiddenDim), dh: b(N * c.hiddenDim), tmp: b(tMax * tMax), dlu: b(N * Math.max(loraRank, 1)),
    gemmScratch: b(arena.k.gemmScratchFloats()),
  };
}

/** Input rows of one batch: token, position, target and loss weight per row (N = B·T each). */
export interface BatchIO {
  readonly tok: number;
  readonly pos: number;
  readonly tgt: number;
  readonly wts: number;
}

function linFwd(k: EngineExports, p: Proj, x: number, y: number, N: number, nIn: number, nOut: number, lu: number, acc: boolean): void {
  mm(k, x, p.w, y, N, nIn, nOut, acc);
  const l = p.lora;
  if (l) {
    mm(k, x, l.at, lu, N, nIn, l.rank, false);
    k.scale(lu, N * l.rank, l.scale);
    mm(k, lu, l.bt, y, N, l.rank, nOut, true);
  }
}

function linBwd(k: EngineExports, p: Proj, x: number, dy: number, dx: number, N: number, nIn: number, nOut: number, lu: number, dlu: number, accDx: boolean): void {
  mmData(k, dy, p.wNat, dx, N, nOut, nIn, accDx);
  if (p.gw) mmWeight(k, x, dy, p.gw, N, nIn, nOut);
  const l = p.lora;
  if (l) {
    mmWeight(k, lu, dy, l.gbt, N, l.rank, nOut);
    mmData(k, dy, l.b, dlu, N, nOut, l.rank, false);
    k.scale(dlu, N * l.rank, l.scale);
    mmWeight(k, x, dlu, l.gat, N, nIn, l.rank);
    mmData(k, dlu, l.a, dx, N, l.rank, nIn, true);
  }
}

/** Forward pass over B×T rows of `io`; leaves the final normalised states in acts.xnF and (if `logits`) logits. */
export function forward(k: EngineExports, c: LlamaConfig, net: NetPtrs, acts: Acts, io: BatchIO, B: number, T: number, logits = true): void {
  const N = B * T;
  const dim = c.dim, hd = dim / c.nHeads, kvDim = hd * c.nKvHeads, hid = c.hiddenDim;
  const scale = 1 / Math.sqrt(hd);
  k.embedFwd(net.emb, c.vocabSize, dim, io.tok, N, acts.layers[0]!.xIn);
  for (let i = 0; i < c.nLayers; i++) {
    const L = net.layers[i]!;
    const A = acts.layers[i]!;
    const xOut = i + 1 < c.nLayers ? acts.layers[i + 1]!.xIn : acts.xF;
    k.rmsnormFwd(A.xIn, L.attnNorm, A.xn1, A.rstd1, N, dim, c.normEps);
    linFwd(k, L.q, A.xn1, A.q, N, dim, dim, A.lu.q, false);
    linFwd(k, L.k, A.xn1, A.k, N, dim, kvDim, A.lu.k, false);
    linFwd(k, L.v, A.xn1, A.v, N, dim, kvDim, A.lu.v, false);
    k.rope(A.q, N, c.nHeads, hd, dim, io.pos, net.rope, 0);
    k.rope(A.k, N, c.nKvHeads, hd, kvDim, io.pos, net.rope, 0);
    k.attnFwd(A.q, A.k, A.v, A.att, A.probs, acts.kt, B, T, c.nHeads, c.nKvHeads, hd, scale);
    k.copyF(A.xIn, A.xMid, N * dim);
    linFwd(k, L.o, A.att, A.xMid, N, dim, dim, A.lu.o, true);
    k.rmsnormFwd(A.xMid, L.ffnNorm, A.xn2, A.rstd2, N, dim, c.normEps);
    linFwd(k, L.gate, A.xn2, A.g, N, dim, hid, A.lu.gate, false);
    linFwd(k, L.up, A.xn2, A.u, N, dim, hid, A.lu.up, false);
    k.swigluFwd(A.g, A.u, A.h, N * hid);
    k.copyF(A.xMid, xOut, N * dim);
    linFwd(k, L.down, A.h, xOut, N, hid, dim, A.lu.down, true);
  }
  k.rmsnormFwd(acts.xF, net.outNorm, acts.xnF, acts.rstdF, N, dim, c.normEps);
  if (logits) mm(k, acts.xnF, net.outT, acts.logits, N, dim, c.vocabSize, false);
}

/**
 * Backward pass after `forward`: turns the logits into the weighted cross-entropy gradient (scaled by
 * invNorm), accumulates every parameter gradient and returns Σ w·nll over the rows.
 */
export function backward(k: EngineExports, c: LlamaConfig, net: NetPtrs, acts: Acts, io: BatchIO, B: number, T: number, invNorm: number): number {
  const N = B * T;
  const dim = c.dim, hd = dim / c.nHeads, kvDim = hd * c.nKvHeads, hid = c.hiddenDim, V = c.vocabSize;
  const scale = 1 / Math.sqrt(hd);
  const loss = k.xentFwdBwd(acts.logits, io.tgt, io.wts, N, V, invNorm);
  const dl = acts.logits;
  mmData(k, dl, net.outNat, acts.dxn, N, V, dim, false);
  if (net.gOut) mmWeight(k, acts.xnF, dl, net.gOut, N, dim, V);
  k.zeroF(acts.dx, N * dim);
  k.rmsnormBwd(acts.xF, net.outNorm, acts.rstdF, acts.dxn, acts.dx, net.gOutNorm, N, dim);
  for (let i = c.nLayers - 1; i >= 0; i--) {
    const L = net.layers[i]!;
    const A = acts.layers[i]!;
    linBwd(k, L.down, A.h, acts.dx, acts.dh, N, hid, dim, A.lu.down, acts.dlu, false);
    k.swigluBwd(A.g, A.u, acts.dh, acts.dgate, acts.dup, N * hid);
    linBwd(k, L.gate, A.xn2, acts.dgate, acts.dxn, N, dim, hid, A.lu.gate, acts.dlu, false);
    linBwd(k, L.up, A.xn2, acts.dup, acts.dxn, N, dim, hid, A.lu.up, acts.dlu, true);
    k.rmsnormBwd(A.xMid, L.ffnNorm, A.rstd2, acts.dxn, acts.dx, L.gFfnNorm, N, dim);
    linBwd(k, L.o, A.att, acts.dx, acts.datt, N, dim, dim, A.lu.o, acts.dlu, false);
    k.attnBwd(A.q, A.k, A.v, A.probs, acts.datt, acts.dq, acts.dk, acts.dv, acts.tmp, acts.kt, B, T, c.nHeads, c.nKvHeads, hd, scale);
    k.rope(acts.dq, N, c.nHeads, hd, dim, io.pos, net.rope, 1);
    k.rope(acts.dk, N, c.nKvHeads, hd, kvDim, io.pos, net.rope, 1);
    linBwd(k, L.q, A.xn1, acts.dq, acts.dxn, N, dim, dim, A.lu.q, acts.dlu, false);
    linBwd(k, L.k, A.xn1, acts.dk, acts.dxn, N, dim, kvDim, A.lu.k, acts.dlu, true);
    linBwd(k, L.v, A.xn1, acts.dv, acts.dxn, N, dim, kvDim, A.lu.v, acts.dlu, true);
    k.rmsnormBwd(A.xIn, L.attnNorm, A.rstd1, acts.dxn, acts.dx, L.gAttnNorm, N, dim);
  }
  if (net.gEmb) k.embedBwd(net.gEmb, V, dim, io.tok, N, acts.dx);
  return loss;
}


/** One shard of a training step: forward then backward; returns Σ w·nll of its rows. */
export function runShard(k: EngineExports, c: LlamaConfig, net: NetPtrs, acts: Acts, io: BatchIO, B: number, T: number, invNorm: number): number {
  // Training threads share one memory: each packs its GEMM operands into the scratch of its own activations.
  k.setScratch(acts.gemmScratch);
  forward(k, c, net, acts, io, B, T, true);
  return backward(k, c, net, acts, io, B, T, invNorm);
}
