/**
 * The Llama forward and backward passes over B sequences of T tokens, as a sequence of WASM kernel calls on
 * pointers. Everything here is plain numbers (byte addresses), so a training worker can run the same code on
 * the same shared memory. Backward is hand-written for every op; a projection may carry a LoRA adapter
 * (Y += s·X·Aᵀ·Bᵀ), and a gradient pointer of 0 means "frozen: no gradient".
 */
import type { LlamaConfig } from './types.js';
import { type Arena, type EngineExports, mm, mmData } from './kernels.js';
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
  /**
   * Training only (0 otherwise): attention-layout scratch (see Packing) for the attention's output or its
   * incoming gradient (`ado`, [·][dim]) and for the gradients it returns (`adq` [·][dim], `adk`/`adv` [·][kvDim]).
   */
  readonly ado: number; readonly adq: number; readonly adk: number; readonly adv: number;
  /** Training only (0 otherwise): the last block's normalised input at the loss rows ([L][dim], kept for the backward pass) and a [·][dim] scratch. */
  readonly lastXn: number; readonly rowsTmp: number;
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
    ado: b(N * c.dim), adq: b(N * c.dim), adk: b(N * kvDim), adv: b(N * kvDim),
    lastXn: b(N * c.dim), rowsTmp: b(N * c.dim),
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

/**
 * dWt[in,out] += X[N,in]ᵀ·dY[N,out] (the weight gradient) over packed rows, summed exactly as the product over
 * the padded rows would be: the GEMM sums each K block of GEMM_KC padded positions from zero and adds it to C, so
 * every segment (the packed rows of one padded block, `segs` = flat [first, count]) is one GEMM of its own;
 * columns past the last multiple of 8 sum all of K in one pass there (gemm.ts), so they take one GEMM over
 * all N rows. The padded rows left out have zero dY: their products are ±0, and adding ±0 to a sum that
 * started at +0 changes no bit (such a sum is never −0 under round-to-nearest).
 */
function mmWeightPacked(k: EngineExports, x: number, dy: number, dwt: number, N: number, nIn: number, nOut: number, segs: readonly number[]): void {
  const P8 = nOut & ~7;
  if (P8 > 0) {
    for (let i = 0; i < segs.length; i += 2) k.gemm(x + segs[i]! * nIn * 4, 1, nIn, dy + segs[i]! * nOut * 4, nOut, dwt, nOut, nIn, segs[i + 1]!, P8, 1);
  }
  if (P8 < nOut && N > 0) k.gemm(x, 1, nIn, dy + P8 * 4, nOut, dwt + P8 * 4, nOut, nIn, N, nOut - P8, 1);
}

function linBwd(k: EngineExports, p: Proj, x: number, dy: number, dx: number, N: number, nIn: number, nOut: number, lu: number, dlu: number, accDx: boolean, segs: readonly number[]): void {
  mmData(k, dy, p.wNat, dx, N, nOut, nIn, accDx);
  if (p.gw) mmWeightPacked(k, x, dy, p.gw, N, nIn, nOut, segs);
  const l = p.lora;
  if (l) {
    mmWeightPacked(k, lu, dy, l.gbt, N, l.rank, nOut, segs);
    mmData(k, dy, l.b, dlu, N, nOut, l.rank, false);
    k.scale(dlu, N * l.rank, l.scale);
    mmWeightPacked(k, x, dlu, l.gat, N, nIn, l.rank, segs);
    mmData(k, dlu, l.a, dx, N, l.rank, nIn, true);
  }
}

/**
 * The layer loop of every forward pass (inference: forward; training: trainForward): the embeddings of the N rows
 * of `io`, then per block the attention norm over the N rows, the attention half (`attention`: it leaves the
 * attention output in A.att and the residual in A.xMid, for the M rows it returns), and the feed-forward half over
 * those M rows into the next block's input (or acts.xF), then the final norm. Returns the last block's M.
 */
function runLayers(k: EngineExports, c: LlamaConfig, net: NetPtrs, acts: Acts, io: BatchIO, N: number, attention: (i: number, L: LayerNet, A: LayerActs) => number): number {
  const dim = c.dim, hid = c.hiddenDim;
  k.embedFwd(net.emb, c.vocabSize, dim, io.tok, N, acts.layers[0]!.xIn);
  let M = N;
  for (let i = 0; i < c.nLayers; i++) {
    const L = net.layers[i]!;
    const A = acts.layers[i]!;
    const xOut = i + 1 < c.nLayers ? acts.layers[i + 1]!.xIn : acts.xF;
    k.rmsnormFwd(A.xIn, L.attnNorm, A.xn1, A.rstd1, N, dim, c.normEps);
    M = attention(i, L, A);
    linFwd(k, L.o, A.att, A.xMid, M, dim, dim, A.lu.o, true);
    k.rmsnormFwd(A.xMid, L.ffnNorm, A.xn2, A.rstd2, M, dim, c.normEps);
    linFwd(k, L.gate, A.xn2, A.g, M, dim, hid, A.lu.gate, false);
    linFwd(k, L.up, A.xn2, A.u, M, dim, hid, A.lu.up, false);
    k.swigluFwd(A.g, A.u, A.h, M * hid);
    k.copyF(A.xMid, xOut, M * dim);
    linFwd(k, L.down, A.h, xOut, M, hid, dim, A.lu.down, true);
  }
  k.rmsnormFwd(acts.xF, net.outNorm, acts.xnF, acts.rstdF, M, dim, c.normEps);
  return M;
}

/** Forward pass over B×T rows of `io`; leaves the final normalised states in acts.xnF and (if `logits`) logits. */
export function forward(k: EngineExports, c: LlamaConfig, net: NetPtrs, acts: Acts, io: BatchIO, B: number, T: number, logits = true): void {
  const N = B * T;
  const dim = c.dim, hd = dim / c.nHeads, kvDim = hd * c.nKvHeads;
  const scale = 1 / Math.sqrt(hd);
  runLayers(k, c, net, acts, io, N, (_i, L, A) => {
    linFwd(k, L.q, A.xn1, A.q, N, dim, dim, A.lu.q, false);
    linFwd(k, L.k, A.xn1, A.k, N, dim, kvDim, A.lu.k, false);
    linFwd(k, L.v, A.xn1, A.v, N, dim, kvDim, A.lu.v, false);
    k.rope(A.q, N, c.nHeads, hd, dim, io.pos, net.rope, 0);
    k.rope(A.k, N, c.nKvHeads, hd, kvDim, io.pos, net.rope, 0);
    k.attnFwd(A.q, A.k, A.v, A.att, A.probs, acts.kt, B, T, c.nHeads, c.nKvHeads, hd, scale);
    k.copyF(A.xIn, A.xMid, N * dim);
    return N;
  });
  if (logits) mm(k, acts.xnF, net.outT, acts.logits, N, dim, c.vocabSize, false);
}

/** Query rows per block of the attention kernels (attention.ts QB). */
const ATTN_QB = 16;
/** K block of the GEMM (gemm.ts KC): a product over positions sums each block of this many from zero. */
const GEMM_KC = 256;

/** A shard's training inputs in the packed layout (see Packing); tok/pos/tgt/wts hold the N packed positions. */
export interface TrainIO extends BatchIO {
  /** Int32 [L, eff_0 … eff_{B−1}, the L loss rows' packed indices]. */
  readonly meta: number;
  /** Targets and weights of the L loss rows (weight ≠ 0). */
  readonly ltgt: number;
  readonly lwts: number;
}

/** Positions of a row that can reach the loss: up to its last non-zero weight (0 when it has none). */
export function effectiveLength(weights: ArrayLike<number>): number {
  for (let t = weights.length - 1; t >= 0; t--) if (weights[t] !== 0) return t + 1;
  return 0;
}

/** One row of a Packing. */
export interface PackedRow {
  /** Packed index of its first position. */
  readonly off: number;
  /** Positions kept (effectiveLength). */
  readonly eff: number;
  /** Attention-layout index of its first position, and its attention length (eff rounded up to the attention's query blocks, at most T). */
  readonly att: number;
  readonly tRow: number;
  /** Float offset of its attention probabilities ([nH][tRow][tRow]). */
  readonly probs: number;
}

/**
 * How a training shard's B rows, padded to T in the padded layout (row b at b·T), are computed without the
 * positions that cannot reach the loss. Position t of a row only influences positions ≥ t (causal attention),
 * so the positions after the row's last non-zero loss weight (padding, and at least the last token, which
 * predicts nothing) get exactly zero gradient and feed no kept position: they are left out, and the N kept
 * positions are stored back to back (the packed layout). Row-wise work (norms, RoPE, SwiGLU, the GEMMs over
 * rows) gives every kept position the same bits as before, since each GEMM row sums in an order that does not
 * depend on the other rows. What sums over positions is kept in the padded order and blocking: weight
 * gradients by `segs` (mmWeightPacked), attention per row in an attention layout where row b has tRow rows,
 * eff of them real and the rest zeros, so every query block and key column of a kept position takes the
 * kernel path it took at length T. The last block after its attention, the output layer and the loss run on
 * the L loss rows only (weight ≠ 0; the others' gradients there are zero and feed nothing: trainForward).
 */
export interface Packing {
  readonly B: number;
  readonly T: number;
  readonly N: number;
  /** Attention-layout rows (Σ tRow). */
  readonly S: number;
  readonly L: number;
  readonly rows: readonly PackedRow[];
  /** Packed positions by padded K block of the GEMM: flat [first, count]. */
  readonly segs: readonly number[];
  /** The same over the L loss rows. */
  readonly lossSegs: readonly number[];
  /** Runs of loss rows that are consecutive packed positions: flat [packed first, loss first, count]. */
  readonly lossRuns: readonly number[];
}

/** Groups items 0…n−1 whose padded indices (increasing) fall into the same GEMM K block into [first, count] segments. */
function kSegments(n: number, padded: (i: number) => number): number[] {
  const segs: number[] = [];
  for (let i = 0; i < n; i++) {
    const blk = Math.floor(padded(i) / GEMM_KC);
    if (segs.length > 0 && Math.floor(padded(i - 1) / GEMM_KC) === blk) segs[segs.length - 1]!++;
    else segs.push(i, 1);
  }
  return segs;
}

/** The packing of B rows of padded length T with these effective lengths and loss rows (packed indices). */
export function packRows(B: number, T: number, eff: ArrayLike<number>, loss: ArrayLike<number>, nHeads: number): Packing {
  const rows: PackedRow[] = [];
  const padded: number[] = [];
  let off = 0, att = 0, probs = 0;
  for (let b = 0; b < B; b++) {
    const e = eff[b]!;
    if (e > T) throw new RangeError(`packRows: row ${b} keeps ${e} positions, more than its padded length ${T}`);
    const tRow = e > 0 ? Math.min(T, Math.ceil(e / ATTN_QB) * ATTN_QB) : 0;
    rows.push({ off, eff: e, att, tRow, probs });
    for (let t = 0; t < e; t++) padded.push(b * T + t);
    off += e;
    att += tRow;
    probs += nHeads * tRow * tRow;
  }
  const L = loss.length;
  const lossRuns: number[] = [];
  for (let j = 0; j < L; j++) {
    if (j > 0 && loss[j]! === loss[j - 1]! + 1) lossRuns[lossRuns.length - 1]!++;
    else lossRuns.push(loss[j]!, j, 1);
  }
  return {
    B, T, N: off, S: att, L, rows,
    segs: kSegments(off, (i) => padded[i]!),
    lossSegs: kSegments(L, (j) => padded[loss[j]!]!),
    lossRuns,
  };
}

/** Reads a shard's packing from its TrainIO (written by TrainState.writeShard) in `memory`. */
export function readPacking(memory: WebAssembly.Memory, io: TrainIO, B: number, T: number, c: LlamaConfig): Packing {
  const head = new Int32Array(memory.buffer, io.meta, 1 + B);
  const L = head[0]!;
  return packRows(B, T, head.subarray(1), new Int32Array(memory.buffer, io.meta + (1 + B) * 4, L), c.nHeads);
}

/** Copies packed rows of `width` floats into the attention layout, zeroing each row's padding. */
function toAttn(k: EngineExports, p: Packing, src: number, dst: number, width: number): void {
  for (const r of p.rows) {
    if (r.eff === 0) continue;
    k.copyF(src + r.off * width * 4, dst + r.att * width * 4, r.eff * width);
    k.zeroF(dst + (r.att + r.eff) * width * 4, (r.tRow - r.eff) * width);
  }
}

/** Copies the kept rows of the attention layout back to the packed layout. */
function fromAttn(k: EngineExports, p: Packing, src: number, dst: number, width: number): void {
  for (const r of p.rows) if (r.eff > 0) k.copyF(src + r.att * width * 4, dst + r.off * width * 4, r.eff * width);
}

/** Gathers the loss rows of a packed [N][width] array into [L][width]. */
function gatherLoss(k: EngineExports, p: Packing, src: number, dst: number, width: number): void {
  for (let i = 0; i < p.lossRuns.length; i += 3) k.copyF(src + p.lossRuns[i]! * width * 4, dst + p.lossRuns[i + 1]! * width * 4, p.lossRuns[i + 2]! * width);
}

/** Scatters [L][width] loss rows into a packed [N][width] array, zeros at every other row. */
function scatterLoss(k: EngineExports, p: Packing, src: number, dst: number, width: number): void {
  k.zeroF(dst, p.N * width);
  for (let i = 0; i < p.lossRuns.length; i += 3) k.copyF(src + p.lossRuns[i + 1]! * width * 4, dst + p.lossRuns[i]! * width * 4, p.lossRuns[i + 2]! * width);
}

/**
 * Training forward over a packed shard: as `forward`, with per-layer Q/K/V kept in the attention layout for
 * the backward pass. In the last block only K and V are needed at every position (later loss rows attend to
 * them); its queries, everything after its attention, the final norm and the logits are computed for the L
 * loss rows only, gathered ([L][·] in A.xMid … acts.xnF and acts.logits): at any other position they reach no
 * loss and get zero gradient.
 */
function trainForward(k: EngineExports, c: LlamaConfig, net: NetPtrs, acts: Acts, io: TrainIO, p: Packing): void {
  const N = p.N, R = p.L;
  const dim = c.dim, hd = dim / c.nHeads, kvDim = hd * c.nKvHeads;
  const scale = 1 / Math.sqrt(hd);
  runLayers(k, c, net, acts, io, N, (i, L, A) => {
    const last = i + 1 === c.nLayers;
    // Q, K, V in packed rows (the backward scratch dq/dk/dv is free), rotated, then laid out for attention.
    if (last) {
      // Queries of the loss rows only (zero queries elsewhere: their outputs are never read).
      gatherLoss(k, p, A.xn1, acts.lastXn, dim);
      linFwd(k, L.q, acts.lastXn, acts.rowsTmp, R, dim, dim, A.lu.q, false);
      scatterLoss(k, p, acts.rowsTmp, acts.dq, dim);
    } else {
      linFwd(k, L.q, A.xn1, acts.dq, N, dim, dim, A.lu.q, false);
    }
    linFwd(k, L.k, A.xn1, acts.dk, N, dim, kvDim, A.lu.k, false);
    linFwd(k, L.v, A.xn1, acts.dv, N, dim, kvDim, A.lu.v, false);
    k.rope(acts.dq, N, c.nHeads, hd, dim, io.pos, net.rope, 0);
    k.rope(acts.dk, N, c.nKvHeads, hd, kvDim, io.pos, net.rope, 0);
    toAttn(k, p, acts.dq, A.q, dim);
    toAttn(k, p, acts.dk, A.k, kvDim);
    toAttn(k, p, acts.dv, A.v, kvDim);
    for (const r of p.rows) {
      if (r.eff === 0) continue;
      k.attnFwd(A.q + r.att * dim * 4, A.k + r.att * kvDim * 4, A.v + r.att * kvDim * 4, acts.ado + r.att * dim * 4, A.probs + r.probs * 4, acts.kt, 1, r.tRow, c.nHeads, c.nKvHeads, hd, scale);
    }
    // Rows from here on: all N, or the loss rows (gathered) in the last block.
    if (last) {
      fromAttn(k, p, acts.ado, acts.rowsTmp, dim);
      gatherLoss(k, p, acts.rowsTmp, A.att, dim);
      gatherLoss(k, p, A.xIn, A.xMid, dim);
      return R;
    }
    fromAttn(k, p, acts.ado, A.att, dim);
    k.copyF(A.xIn, A.xMid, N * dim);
    return N;
  });
  mm(k, acts.xnF, net.outT, acts.logits, R, dim, c.vocabSize, false);
}

/**
 * Backward after trainForward: the weighted cross-entropy gradient of the loss rows (scaled by invNorm), every
 * parameter gradient accumulated; returns Σ w·nll over the loss rows. The last block's gradients below its
 * attention are those of the loss rows, scattered into zeros (the other rows' are zero).
 */
function trainBackward(k: EngineExports, c: LlamaConfig, net: NetPtrs, acts: Acts, io: TrainIO, p: Packing, invNorm: number): number {
  const N = p.N, R = p.L;
  const dim = c.dim, hd = dim / c.nHeads, kvDim = hd * c.nKvHeads, hid = c.hiddenDim, V = c.vocabSize;
  const scale = 1 / Math.sqrt(hd);
  const loss = k.xentFwdBwd(acts.logits, io.ltgt, io.lwts, R, V, invNorm);
  const dl = acts.logits;
  mmData(k, dl, net.outNat, acts.dxn, R, V, dim, false);
  if (net.gOut) mmWeightPacked(k, acts.xnF, dl, net.gOut, R, dim, V, p.lossSegs);
  k.zeroF(acts.dx, R * dim);
  k.rmsnormBwd(acts.xF, net.outNorm, acts.rstdF, acts.dxn, acts.dx, net.gOutNorm, R, dim);
  for (let i = c.nLayers - 1; i >= 0; i--) {
    const L = net.layers[i]!;
    const A = acts.layers[i]!;
    const last = i + 1 === c.nLayers;
    // Rows of the block's part after attention: the loss rows in the last block (gathered), else all N.
    const M = last ? R : N;
    const segs = last ? p.lossSegs : p.segs;
    linBwd(k, L.down, A.h, acts.dx, acts.dh, M, hid, dim, A.lu.down, acts.dlu, false, segs);
    k.swigluBwd(A.g, A.u, acts.dh, acts.dgate, acts.dup, M * hid);
    linBwd(k, L.gate, A.xn2, acts.dgate, acts.dxn, M, dim, hid, A.lu.gate, acts.dlu, false, segs);
    linBwd(k, L.up, A.xn2, acts.dup, acts.dxn, M, dim, hid, A.lu.up, acts.dlu, true, segs);
    k.rmsnormBwd(A.xMid, L.ffnNorm, A.rstd2, acts.dxn, acts.dx, L.gFfnNorm, M, dim);
    linBwd(k, L.o, A.att, acts.dx, acts.datt, M, dim, dim, A.lu.o, acts.dlu, false, segs);
    if (last) {
      // Back to all N rows: the residual gradient and the attention's (zeros at the other rows).
      k.copyF(acts.dx, acts.rowsTmp, R * dim);
      scatterLoss(k, p, acts.rowsTmp, acts.dx, dim);
      scatterLoss(k, p, acts.datt, acts.adq, dim);
      toAttn(k, p, acts.adq, acts.ado, dim);
    } else {
      // The attention's gradient in the attention layout: zero gradient on every padding row.
      toAttn(k, p, acts.datt, acts.ado, dim);
    }
    for (const r of p.rows) {
      if (r.eff === 0) continue;
      k.attnBwd(A.q + r.att * dim * 4, A.k + r.att * kvDim * 4, A.v + r.att * kvDim * 4, A.probs + r.probs * 4, acts.ado + r.att * dim * 4,
        acts.adq + r.att * dim * 4, acts.adk + r.att * kvDim * 4, acts.adv + r.att * kvDim * 4, acts.tmp, acts.kt, 1, r.tRow, c.nHeads, c.nKvHeads, hd, scale);
    }
    fromAttn(k, p, acts.adq, acts.dq, dim);
    fromAttn(k, p, acts.adk, acts.dk, kvDim);
    fromAttn(k, p, acts.adv, acts.dv, kvDim);
    k.rope(acts.dq, N, c.nHeads, hd, dim, io.pos, net.rope, 1);
    k.rope(acts.dk, N, c.nKvHeads, hd, kvDim, io.pos, net.rope, 1);
    if (last) {
      gatherLoss(k, p, acts.dq, acts.datt, dim);
      linBwd(k, L.q, acts.lastXn, acts.datt, acts.rowsTmp, R, dim, dim, A.lu.q, acts.dlu, false, p.lossSegs);
      scatterLoss(k, p, acts.rowsTmp, acts.dxn, dim);
    } else {
      linBwd(k, L.q, A.xn1, acts.dq, acts.dxn, N, dim, dim, A.lu.q, acts.dlu, false, p.segs);
    }
    linBwd(k, L.k, A.xn1, acts.dk, acts.dxn, N, dim, kvDim, A.lu.k, acts.dlu, true, p.segs);
    linBwd(k, L.v, A.xn1, acts.dv, acts.dxn, N, dim, kvDim, A.lu.v, acts.dlu, true, p.segs);
    k.rmsnormBwd(A.xIn, L.attnNorm, A.rstd1, acts.dxn, acts.dx, L.gAttnNorm, N, dim);
  }
  if (net.gEmb) k.embedBwd(net.gEmb, V, dim, io.tok, N, acts.dx);
  return loss;
}

/**
 * One shard of a training step (B rows of padded length T, written packed by TrainState.writeShard): forward
 * then backward over the positions that can reach the loss; returns Σ w·nll of its rows. The gradients and
 * the loss have the bits the padded computation of every B·T position gives (see Packing).
 */
export function runShard(k: EngineExports, memory: WebAssembly.Memory, c: LlamaConfig, net: NetPtrs, acts: Acts, io: TrainIO, B: number, T: number, invNorm: number): number {
  const p = readPacking(memory, io, B, T, c);
  if (p.N === 0) return 0;
  // Training threads share one memory: each packs its GEMM operands into the scratch of its own activations.
  k.setScratch(acts.gemmScratch);
  trainForward(k, c, net, acts, io, p);
  return trainBackward(k, c, net, acts, io, p, invNorm);
}
