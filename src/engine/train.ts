/**
 * Fine-tuning: AdamW (decoupled weight decay on matrices, bias correction), global-norm gradient clipping,
 * warmup then cosine/linear decay, per-token loss weights (0 masks a token, negative pushes its probability
 * down), gradient accumulation, full fine-tuning or LoRA, and data-parallel shards over worker threads.
 *
 * Determinism: every batch is split into a fixed number of shards (independent of the thread count), each
 * shard's gradient goes to its own buffer, and the buffers are summed in shard order; the optimizer's
 * elementwise work is split between the threads by tensor ranges, and the gradient norm is summed on one
 * thread in index order. A seed therefore gives bit-identical weights on 1 or 2 threads, with the calling
 * thread computing or not (`offload`).
 */
import { ConfigError, EngineError } from '../errors.js';
import { Rng } from '../rng.js';
import type { LlamaConfig } from './types.js';
import { Arena, engineModule, kernelPaths } from './kernels.js';
import { LlamaModel, type ParamLayout } from './model.js';
import { type Acts, type NetPtrs, type TrainIO, allocActs, effectiveLength, makeNatural, netPtrs, packRows, ropeTable, runShard } from './transformer.js';
import { LoraLayout, initLora, loraNatural, loraPtrs, maxBtSize, mergeLora } from './lora.js';
import { type AdamStep, ShardPool, type UpdatePart, type UpdatePlan, applyPart, defaultThreads, reducePart } from './parallel.js';

/** One training sequence; lossWeights[t] weights the loss of predicting tokens[t+1] (length tokens.length − 1). */
export interface TokenizedExample {
  tokens: Int32Array | number[];
  lossWeights: Float32Array | number[];
}

/** Progress of one optimizer step. */
export interface StepInfo {
  step: number;
  totalSteps: number;
  loss: number;
  tokens: number;
  lr: number;
}

/** Fine-tuning options. */
export interface TrainConfig {
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  maxSteps?: number;
  warmupSteps?: number;
  schedule?: 'cosine' | 'linear' | 'constant';
  /** Final LR as a fraction of learningRate for cosine/linear decay (default 0.1). */
  minLrRatio?: number;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Global gradient-norm clip (default 1; 0 disables). */
  clipNorm?: number;
  /** Micro-batches per optimizer step (default 1). */
  gradAccumulation?: number;
  lora?: { rank: number; alpha?: number };
  threads?: number;
  /**
   * Runs every gradient shard and all of the optimizer on `threads` worker threads, so the calling thread
   * stays free while the model trains (it only hands out batches and sums the gradient norm): two fine-tunes
   * of one process can then train at once, each on its own core. The same bits as on the calling thread.
   */
  offload?: boolean;
  /** Longest accepted example (default and maximum: the model's context length). */
  maxSeqLen?: number;
  onStep?: (s: StepInfo) => void;
  shouldStop?: (step: number, loss: number) => boolean;
  signal?: AbortSignal;
  /** Calls onCheckpoint with a snapshot model (LoRA merged) every this many steps and after the last one. */
  checkpointEvery?: number;
  /** Receives each snapshot (a new model: dispose it when done); returning true stops training after this step. */
  onCheckpoint?: (model: LlamaModel, step: number) => boolean | void | Promise<boolean | void>;
}

/** What fineTune returns. */
export interface TrainResult {
  /** A new model (the base is untouched); LoRA adapters are merged into it. */
  model: LlamaModel;
  stepsRun: number;
  tokensTrained: number;
  losses: number[];
}

/** Gradient shards per batch: fixed so that the thread count never changes the arithmetic. */
const SHARDS = 2;

/** A checked training sequence and its per-token loss weights (length tokens.length − 1). */
export interface Example {
  tokens: Int32Array;
  weights: Float32Array;
}

/** Checks and copies examples; a sequence longer than `maxLen` is an EngineError naming the example. */
export function prepareExamples(examples: readonly TokenizedExample[], c: LlamaConfig, maxLen: number): Example[] {
  if (!Array.isArray(examples) || examples.length === 0) throw new EngineError('training needs at least one example');
  return examples.map((ex, i) => {
    const tokens = Int32Array.from(ex.tokens);
    const weights = Float32Array.from(ex.lossWeights);
    if (tokens.length < 2) throw new EngineError(`example ${i}: needs at least 2 tokens, got ${tokens.length}`);
    if (tokens.length > maxLen) {
      throw new EngineError(`example ${i}: ${tokens.length} tokens exceed the context length ${maxLen}${maxLen < c.contextLength ? ' (maxSeqLen)' : ''}`);
    }
    if (weights.length !== tokens.length - 1) {
      throw new EngineError(`example ${i}: lossWeights has ${weights.length} entries, expected tokens.length − 1 = ${tokens.length - 1}`);
    }
    for (let t = 0; t < tokens.length; t++) {
      const v = tokens[t]!;
      if (v < 0 || v >= c.vocabSize || v !== Number(ex.tokens[t])) throw new EngineError(`example ${i}: token ${t} is ${String(ex.tokens[t])}, expected an integer in [0, ${c.vocabSize})`);
    }
    for (let t = 0; t < weights.length; t++) {
      if (!Number.isFinite(weights[t]!)) throw new EngineError(`example ${i}: lossWeights[${t}] is not finite`);
    }
    return { tokens, weights };
  });
}

interface Resolved {
  epochs: number; lr: number; batchSize: number; seed: number; maxSteps: number; warmup: number;
  schedule: 'cosine' | 'linear' | 'constant'; minLrRatio: number; wd: number; b1: number; b2: number; eps: number;
  clip: number; accum: number; checkpointEvery: number; lora?: { rank: number; scale: number }; threads: number; maxSeqLen: number;
}

function resolve(cfg: TrainConfig, c: LlamaConfig): Resolved {
  const num = (name: string, v: unknown, ok: (x: number) => boolean, what: string): number => {
    if (typeof v !== 'number' || !ok(v)) throw new ConfigError(`fine-tune option ${name}: expected ${what}, got ${String(v)}`);
    return v;
  };
  const posInt = (x: number) => Number.isInteger(x) && x > 0;
  const nonNegInt = (x: number) => Number.isInteger(x) && x >= 0;
  const frac = (x: number) => x >= 0 && x < 1;
  const schedule = cfg.schedule ?? 'cosine';
  if (!['cosine', 'linear', 'constant'].includes(schedule)) throw new ConfigError(`fine-tune option schedule: expected 'cosine', 'linear' or 'constant', got '${String(schedule)}'`);
  let lora: Resolved['lora'];
  if (cfg.lora) {
    const rank = num('lora.rank', cfg.lora.rank, posInt, 'a positive integer');
    const alpha = num('lora.alpha', cfg.lora.alpha ?? rank, (x) => Number.isFinite(x) && x > 0, 'a positive number');
    lora = { rank, scale: alpha / rank };
  }
  return {
    epochs: num('epochs', cfg.epochs, (x) => Number.isFinite(x) && x > 0, 'a positive number'),
    lr: num('learningRate', cfg.learningRate, (x) => Number.isFinite(x) && x > 0, 'a positive number'),
    batchSize: num('batchSize', cfg.batchSize, posInt, 'a positive integer'),
    seed: num('seed', cfg.seed, Number.isFinite, 'a finite number'),
    maxSteps: num('maxSteps', cfg.maxSteps ?? Infinity, (x) => x === Infinity || posInt(x), 'a positive integer'),
    warmup: num('warmupSteps', cfg.warmupSteps ?? 0, nonNegInt, 'a non-negative integer'),
    schedule,
    minLrRatio: num('minLrRatio', cfg.minLrRatio ?? 0.1, (x) => x >= 0 && x <= 1, 'a number in [0, 1]'),
    wd: num('weightDecay', cfg.weightDecay ?? 0, (x) => x >= 0 && Number.isFinite(x), 'a non-negative number'),
    b1: num('beta1', cfg.beta1 ?? 0.9, frac, 'a number in [0, 1)'),
    b2: num('beta2', cfg.beta2 ?? 0.999, frac, 'a number in [0, 1)'),
    eps: num('eps', cfg.eps ?? 1e-8, (x) => x > 0, 'a positive number'),
    clip: num('clipNorm', cfg.clipNorm ?? 1, (x) => x >= 0 && Number.isFinite(x), 'a non-negative number (0 disables)'),
    accum: num('gradAccumulation', cfg.gradAccumulation ?? 1, posInt, 'a positive integer'),
    checkpointEvery: num('checkpointEvery', cfg.checkpointEvery ?? 0, nonNegInt, 'a non-negative integer (0: only after the last step)'),
    lora,
    threads: num('threads', cfg.threads ?? defaultThreads(), posInt, 'a positive integer'),
    maxSeqLen: num('maxSeqLen', cfg.maxSeqLen ?? c.contextLength, (x) => posInt(x) && x <= c.contextLength, `an integer in [1, ${c.contextLength}] (the context length)`),
  };
}

/** Learning rate of optimizer step `s` (0-based) of `total`. */
export function learningRateAt(s: number, total: number, r: Pick<Resolved, 'lr' | 'warmup' | 'schedule' | 'minLrRatio'>): number {
  if (s < r.warmup) return (r.lr * (s + 1)) / r.warmup;
  if (r.schedule === 'constant') return r.lr;
  const progress = Math.min(1, (s - r.warmup) / Math.max(1, total - r.warmup - 1));
  const min = r.lr * r.minLrRatio;
  if (r.schedule === 'linear') return r.lr - (r.lr - min) * progress;
  return min + (r.lr - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/**
 * All buffers of one training run in one shared memory: parameters (a copy of the base), their natural-layout
 * copy, the trainable block's per-shard gradients and AdamW moments, per-shard batch inputs and per-thread
 * activations.
 */
export class TrainState {
  readonly arena: Arena;
  readonly layout: ParamLayout;
  readonly params: number;
  readonly nat: number;
  readonly lora?: { layout: LoraLayout; params: number; nat: number; scale: number };
  /** The block AdamW updates (base parameters, or the LoRA block) and how much of it is weight-decayed. */
  readonly trainable: { ptr: number; total: number; decayFloats: number };
  readonly grads: number[] = [];
  readonly m: number;
  readonly v: number;
  readonly ios: TrainIO[] = [];
  readonly nets: NetPtrs[] = [];
  readonly acts: Acts[] = [];

  /**
   * `module` is the kernel build every thread of the run computes with (default: the process's choice,
   * kernels.ts); StepRunner hands the same module to its workers.
   */
  constructor(readonly base: LlamaModel, readonly shardB: number, readonly tMax: number, nShards: number, threads: number, lora?: { rank: number; scale: number; seed: number }, readonly module: WebAssembly.Module = engineModule()) {
    const c = base.config;
    const a = (this.arena = new Arena(undefined, module));
    this.layout = base.layout;
    this.params = a.alloc(this.layout.total);
    a.f32(this.params, this.layout.total).set(base.params());
    this.nat = a.alloc(this.layout.total);
    const rope = ropeTable(a, c);
    if (lora) {
      const ll = new LoraLayout(c, lora.rank);
      this.lora = { layout: ll, params: a.alloc(ll.total), nat: a.alloc(ll.total), scale: lora.scale };
      initLora(a.f32(this.lora.params, ll.total), ll, lora.seed);
      this.trainable = { ptr: this.lora.params, total: ll.total, decayFloats: ll.total };
    } else {
      this.trainable = { ptr: this.params, total: this.layout.total, decayFloats: this.layout.matrixFloats };
    }
    for (let s = 0; s < nShards; s++) this.grads.push(a.alloc(this.trainable.total));
    this.m = a.alloc(this.trainable.total);
    this.v = a.alloc(this.trainable.total);
    const N = shardB * tMax;
    for (let s = 0; s < nShards; s++) {
      this.ios.push({ tok: a.alloc(N), pos: a.alloc(N), tgt: a.alloc(N), wts: a.alloc(N), meta: a.alloc(1 + shardB + N), ltgt: a.alloc(N), lwts: a.alloc(N) });
      const l = this.lora;
      this.nets.push(l
        ? netPtrs(this.layout, this.params, this.nat, 0, rope, loraPtrs(l.layout, l.params, l.nat, this.grads[s]!, l.scale))
        : netPtrs(this.layout, this.params, this.nat, this.grads[s]!, rope));
    }
    for (let t = 0; t < threads; t++) this.acts.push(allocActs(a, c, shardB, tMax, true, lora?.rank ?? 0));
    this.refreshNatural();
  }

  /** Re-derives the natural-layout copies after the parameters changed. */
  refreshNatural(): void {
    const k = this.arena.k;
    if (this.lora) {
      if (!this.natDone) makeNatural(k, this.layout, this.params, this.nat);
      loraNatural(k, this.lora.layout, this.lora.params, this.lora.nat);
    } else {
      makeNatural(k, this.layout, this.params, this.nat);
    }
    this.natDone = true;
  }
  private natDone = false;

  /**
   * Writes shard s's sequences in the packed layout (transformer.ts Packing): each row's positions up to its
   * last non-zero loss weight, back to back, then the loss rows' targets and weights and the layout's header.
   */
  writeShard(s: number, exs: readonly Example[]): void {
    const io = this.ios[s]!;
    const B = exs.length;
    const eff = exs.map((ex) => effectiveLength(ex.weights));
    const N = eff.reduce((a, b) => a + b, 0);
    const tok = this.arena.i32(io.tok, N), pos = this.arena.i32(io.pos, N), tgt = this.arena.i32(io.tgt, N);
    const wts = this.arena.f32(io.wts, N);
    const meta = this.arena.i32(io.meta, 1 + B + N);
    const ltgt = this.arena.i32(io.ltgt, N), lwts = this.arena.f32(io.lwts, N);
    let o = 0, L = 0;
    exs.forEach((ex, b) => {
      const e = eff[b]!;
      meta[1 + b] = e;
      tok.set(ex.tokens.subarray(0, e), o);
      tgt.set(ex.tokens.subarray(1, e + 1), o);
      wts.set(ex.weights.subarray(0, e), o);
      for (let t = 0; t < e; t++) {
        pos[o + t] = t;
        const w = ex.weights[t]!;
        if (w !== 0) {
          meta[1 + B + L] = o + t;
          ltgt[L] = ex.tokens[t + 1]!;
          lwts[L] = w;
          L++;
        }
      }
      o += e;
    });
    meta[0] = L;
  }

  /** Zeroes every shard's gradient. */
  zeroGrads(): void {
    for (const g of this.grads) this.arena.k.zeroF(g, this.trainable.total);
  }

  /**
   * Splits the optimizer's work into `n` parts at tensor boundaries (so each matrix's transpose belongs to the
   * part that updates it), balancing floats updated plus floats transposed.
   */
  updatePlan(n: number): UpdatePlan {
    const pieces: { off: number; transposes: UpdatePart['transposes'] }[] = [];
    if (this.lora) {
      const { layout: ll, params, nat } = this.lora;
      for (const e of ll.entries) {
        pieces.push({ off: e.atOff, transposes: [[params + e.atOff * 4, nat + e.atOff * 4, e.nIn, ll.rank]] });
        pieces.push({ off: e.btOff, transposes: [[params + e.btOff * 4, nat + e.btOff * 4, ll.rank, e.nOut]] });
      }
    } else {
      for (const s of this.layout.slots.values()) {
        // As makeNatural: internal storage is [cols][rows], its transpose the GGUF [rows][cols] layout.
        const [rows, cols] = s.shape as [number, number];
        pieces.push({ off: s.offset, transposes: s.matrix ? [[this.params + s.offset * 4, this.nat + s.offset * 4, cols, rows]] : [] });
      }
    }
    pieces.sort((a, b) => a.off - b.off);
    const { ptr, total, decayFloats } = this.trainable;
    const ends = pieces.map((p, i) => pieces[i + 1]?.off ?? total);
    const cost = pieces.map((p, i) => ends[i]! - p.off + p.transposes.reduce((c, [, , r, cl]) => c + r * cl, 0));
    const all = cost.reduce((a, b) => a + b, 0);
    const parts: UpdatePart[] = [];
    let first = 0, acc = 0;
    for (let j = 0; j < n; j++) {
      // Take pieces while that brings the running cost closer to the j+1-th n-th of the total.
      const target = (all * (j + 1)) / n;
      let last = first;
      while (last < pieces.length && (j === n - 1 || Math.abs(acc + cost[last]! - target) <= Math.abs(acc - target))) acc += cost[last++]!;
      const lo = first < pieces.length ? pieces[first]!.off : total;
      const hi = last < pieces.length ? pieces[last]!.off : total;
      // applyPart's bit-identity needs every part to start 4-aligned within its AdamW segment.
      if ((lo <= decayFloats ? lo : lo - decayFloats) % 4 !== 0) throw new EngineError(`internal: optimizer part starts at float ${lo}, not 4-aligned`);
      parts.push({ lo, hi, transposes: pieces.slice(first, last).flatMap((p) => p.transposes) });
      first = last;
    }
    return { ptr, total, decayFloats, grads: this.grads, m: this.m, v: this.v, parts };
  }

  /** The model with the current parameters (LoRA merged into the copy; training state is untouched). */
  toModel(): LlamaModel {
    const model = LlamaModel.fromBlock(this.base.config, this.arena.f32(this.params, this.layout.total));
    if (this.lora) {
      const a = model.arena;
      const ll = this.lora.layout;
      const mark = a.mark();
      const lp = a.alloc(ll.total);
      a.f32(lp, ll.total).set(this.arena.f32(this.lora.params, ll.total));
      const scratch = a.alloc(maxBtSize(ll));
      mergeLora(a.k, ll, this.layout, model.paramPtr, lp, this.lora.scale, scratch);
      a.release(mark);
    }
    return model;
  }
}

/** AdamW settings of a run; clip is the global gradient-norm limit (0: none). */
export interface AdamConfig {
  readonly b1: number;
  readonly b2: number;
  readonly eps: number;
  readonly wd: number;
  readonly clip: number;
}

/**
 * Runs the training steps of a TrainState on `threads` threads: every shard's gradient on the thread
 * `shard % threads`, then the optimizer split by tensor ranges (parallel.ts). The one training step that
 * fineTune and the pretraining loop share.
 */
export class StepRunner {
  /** Workers are compute threads 1… (the calling thread is thread 0), or 0… when offloaded. */
  private readonly first: number;

  private constructor(readonly state: TrainState, readonly threads: number, private readonly plan: UpdatePlan, private readonly pool: ShardPool | undefined, readonly offload: boolean) {
    this.first = offload ? 0 : 1;
  }

  /**
   * Starts the worker threads: threads − 1 of them, the calling thread being the first compute thread, or
   * `threads` of them when `offload` (the calling thread then computes nothing; TrainState must hold
   * `threads` activation sets either way).
   */
  static async start(state: TrainState, threads: number, offload = false): Promise<StepRunner> {
    if (threads > state.acts.length) throw new EngineError(`internal: ${threads} threads but ${state.acts.length} activation sets`);
    // Gradients must be zero at a step's start; afterwards each step clears them itself.
    state.zeroGrads();
    const plan = state.updatePlan(threads);
    const c = state.base.config;
    const first = offload ? 0 : 1;
    const paths = kernelPaths(state.module);
    const pool = threads > first
      ? await ShardPool.start(
          state.acts.slice(first, threads).map((acts, i) => ({ module: state.module, paths, memory: state.arena.memory, config: c, nets: state.nets, ios: state.ios, acts, plan, part: i + first })),
          { asyncWait: offload },
        )
      : undefined;
    return new StepRunner(state, threads, plan, pool, offload);
  }

  /**
   * Adds one micro-batch's gradients: writes each shard's sequences (packed; T is the micro-batch's longest row) and computes all shards.
   * Returns each shard's weighted loss sum, in shard order whatever thread finished first.
   */
  async accumulate(shards: readonly (readonly Example[])[], T: number, invNorm: number): Promise<number[]> {
    const { state, threads, pool, first } = this;
    const byThread: { shard: number; B: number }[][] = Array.from({ length: threads }, () => []);
    shards.forEach((exs, s) => {
      if (exs.length > 0) byThread[s % threads]!.push({ shard: s, B: exs.length });
    });
    // The workers' inputs first, so that they start while the main thread writes its own.
    for (let t = first; t < threads; t++) {
      for (const j of byThread[t]!) state.writeShard(j.shard, shards[j.shard]!);
      if (byThread[t]!.length > 0) pool!.runShards(t - first, { shards: byThread[t]!, T, invNorm });
    }
    const perShard = new Array<number>(shards.length).fill(0);
    if (first === 1) {
      for (const j of byThread[0]!) state.writeShard(j.shard, shards[j.shard]!);
      const k = state.arena.k;
      for (const { shard, B } of byThread[0]!) perShard[shard] = runShard(k, state.arena.memory, state.base.config, state.nets[shard]!, state.acts[0]!, state.ios[shard]!, B, T, invNorm);
    }
    for (let t = first; t < threads; t++) {
      if (byThread[t]!.length === 0) continue;
      const ls = await pool!.wait(t - first);
      byThread[t]!.forEach((j, i) => (perShard[j.shard] = ls[i]!));
    }
    return perShard;
  }

  /**
   * Sums the shard gradients and returns their global L2 norm; `diverged` builds the error thrown when the
   * loss or the norm is not finite. Then clips, applies AdamW step t (1-based) at learning rate lr unless
   * `apply` is false, refreshes the natural copies and clears the gradients for the next step.
   */
  async update(t: number, lr: number, o: AdamConfig, loss: number, diverged: (gnorm: number) => Error, apply = true): Promise<number> {
    const { plan, pool, state } = this;
    const k = state.arena.k;
    for (let i = 0; i < (pool?.size ?? 0); i++) pool!.reduce(i);
    if (!this.offload) reducePart(k, plan, plan.parts[0]!);
    await pool?.waitAll();
    // A sum in one fixed order (index order, f64): the norm, the clip and so every update are reproducible.
    const gnorm = Math.sqrt(k.sumsq(plan.grads[0]!, plan.total));
    if (!Number.isFinite(loss) || !Number.isFinite(gnorm)) throw diverged(gnorm);
    const step: AdamStep | undefined = apply
      ? { gradScale: o.clip > 0 && gnorm > o.clip ? o.clip / gnorm : 1, lr, b1: o.b1, b2: o.b2, eps: o.eps, wd: o.wd, bc1: 1 - Math.pow(o.b1, t), bc2: 1 - Math.pow(o.b2, t) }
      : undefined;
    for (let i = 0; i < (pool?.size ?? 0); i++) pool!.apply(i, step);
    if (!this.offload) applyPart(k, plan, plan.parts[0]!, step);
    await pool?.waitAll();
    return gnorm;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.pool?.close();
  }
}

/**
 * The work of the training passes, counted from the batches' shapes (not timed), as the padded computation did
 * it (every row padded to its micro-batch's longest, every position computed: 6030a90 and before) and as the
 * packed one does (transformer.ts Packing and trainForward: kept positions, and in the last block after K and V
 * only the loss rows). Multiply-adds are those of the GEMMs: forward, data-gradient and
 * weight-gradient products of the linear layers and the output layer (three per position and weight), and the
 * attention's six products per computed query–key pair and head dimension; a LoRA run computes fewer (no
 * weight gradient of the frozen base) and is counted the same way. The optimizer's work (every trainable
 * parameter, every step) is the same in both and not counted.
 */
export interface TrainWork {
  fineTunes: number;
  steps: number;
  microBatches: number;
  /** Rows trained, and those with at least one non-zero loss weight (the others are not computed at all). */
  rows: number;
  rowsComputed: number;
  /** Tokens of the rows, positions computed padded (B·T) and packed, positions with a non-zero loss weight. */
  tokens: number;
  positionsPadded: number;
  positionsPacked: number;
  lossPositions: number;
  /** Rows through the output layer and the loss: every position padded, the loss positions packed. */
  logitRowsPadded: number;
  logitRowsPacked: number;
  /** Query–key pairs the attention computes (per head and layer), padded and packed. */
  attnPairsPadded: number;
  attnPairsPacked: number;
  macsPadded: number;
  macsPacked: number;
}

const work: TrainWork = {
  fineTunes: 0, steps: 0, microBatches: 0, rows: 0, rowsComputed: 0, tokens: 0, positionsPadded: 0, positionsPacked: 0, lossPositions: 0,
  logitRowsPadded: 0, logitRowsPacked: 0, attnPairsPadded: 0, attnPairsPacked: 0, macsPadded: 0, macsPacked: 0,
};

/** This process's training work since it started (a copy): see TrainWork. */
export function trainWork(): TrainWork {
  return { ...work };
}

/** Query–key pairs the attention kernels compute for a row of attention length T (blocks of 16 queries, each scoring keys up to its last row). */
function attnPairs(T: number): number {
  let n = 0;
  for (let t0 = 0; t0 < T; t0 += 16) {
    const t1 = Math.min(T, t0 + 16);
    n += (t1 - t0) * t1;
  }
  return n;
}

/** Counts one micro-batch (its shards at padded length T) into `work`. */
function countWork(shards: readonly (readonly Example[])[], T: number, c: LlamaConfig): void {
  const hd = c.dim / c.nHeads, kvDim = hd * c.nKvHeads;
  // Per position and block: Q and O (dim × dim), K and V (dim × kvDim), gate, up and down (dim × hidden).
  const qoFfn = 2 * c.dim * c.dim + 3 * c.dim * c.hiddenDim;
  const kv = 2 * c.dim * kvDim;
  const perPosition = c.nLayers * (qoFfn + kv);
  // Packed: every kept position goes through K and V of every block and the rest of all blocks but the last;
  // the last block's Q, O and FFN, and the output layer, run on the loss rows only.
  const perKept = c.nLayers * kv + (c.nLayers - 1) * qoFfn;
  const perLogitRow = c.dim * c.vocabSize;
  const perPair = 6 * c.nLayers * c.nHeads * hd;
  work.microBatches++;
  for (const exs of shards) {
    const eff = exs.map((e) => effectiveLength(e.weights));
    let L = 0;
    for (const e of exs) for (const w of e.weights) if (w !== 0) L++;
    const p = packRows(exs.length, T, eff, new Int32Array(L), c.nHeads);
    const padPairs = exs.length * attnPairs(T);
    const packPairs = p.rows.reduce((a, r) => a + attnPairs(r.tRow), 0);
    work.rows += exs.length;
    work.rowsComputed += eff.filter((e) => e > 0).length;
    work.tokens += exs.reduce((a, e) => a + e.tokens.length, 0);
    work.positionsPadded += exs.length * T;
    work.positionsPacked += p.N;
    work.lossPositions += L;
    work.logitRowsPadded += exs.length * T;
    work.logitRowsPacked += L;
    work.attnPairsPadded += padPairs;
    work.attnPairsPacked += packPairs;
    work.macsPadded += 3 * (exs.length * T * perPosition + exs.length * T * perLogitRow) + padPairs * perPair;
    work.macsPacked += 3 * (p.N * perKept + L * (qoFfn + perLogitRow)) + packPairs * perPair;
  }
}

/** Splits a batch into up to SHARDS contiguous groups (the split depends only on the batch). */
function splitShards<T>(batch: readonly T[], nShards: number): T[][] {
  const per = Math.ceil(batch.length / nShards);
  const out: T[][] = [];
  for (let s = 0; s < nShards; s++) out.push(batch.slice(s * per, (s + 1) * per));
  return out;
}

/** Fine-tunes a copy of `base`; see the module comment. Throws EngineError on NaN/Inf loss or an over-long example. */
export async function fineTune(base: LlamaModel, examples: readonly TokenizedExample[], cfg: TrainConfig): Promise<TrainResult> {
  base.check();
  const c = base.config;
  const r = resolve(cfg, c);
  const data = prepareExamples(examples, c, r.maxSeqLen);
  const rng = new Rng(`finetune:${r.seed}`);
  const nShards = Math.min(SHARDS, r.batchSize);
  const threads = Math.min(r.threads, nShards);
  const shardB = Math.ceil(r.batchSize / nShards);
  const tMax = data.reduce((m, e) => Math.max(m, e.tokens.length), 0);
  const state = new TrainState(base, shardB, tMax, nShards, threads, r.lora ? { ...r.lora, seed: rng.seed31() } : undefined);

  const perEpoch = Math.ceil(data.length / r.batchSize);
  const microTotal = Math.ceil(r.epochs * perEpoch);
  const totalSteps = Math.min(r.maxSteps, Math.ceil(microTotal / r.accum));
  let order: number[] = [];
  let cursor = 0;
  let microDone = 0;
  const nextBatch = (): Example[] => {
    if (cursor >= order.length) {
      order = rng.shuffle(data.map((_, i) => i));
      cursor = 0;
    }
    const idx = order.slice(cursor, cursor + r.batchSize);
    cursor += r.batchSize;
    microDone++;
    return idx.map((i) => data[i]!);
  };

  const runner = await StepRunner.start(state, threads, cfg.offload ?? false).catch((err: unknown) => {
    state.arena.free();
    throw err;
  });
  work.fineTunes++;
  const adam: AdamConfig = { b1: r.b1, b2: r.b2, eps: r.eps, wd: r.wd, clip: r.clip };
  const losses: number[] = [];
  let tokensTrained = 0;
  let stepsRun = 0;
  let trained = false;
  try {
    for (let step = 0; step < totalSteps; step++) {
      if (cfg.signal?.aborted) throw new EngineError(`fine-tuning aborted at step ${step}`, { cause: cfg.signal.reason });
      const micro: Example[][] = [];
      for (let i = 0; i < r.accum && microDone < microTotal; i++) micro.push(nextBatch());
      let norm = 0;
      let tokens = 0;
      for (const b of micro) for (const e of b) {
        tokens += e.tokens.length;
        for (let t = 0; t < e.weights.length; t++) norm += Math.abs(e.weights[t]!);
      }
      const invNorm = norm > 0 ? 1 / norm : 0;
      let lossSum = 0;
      for (const batch of micro) {
        const T = batch.reduce((m, e) => Math.max(m, e.tokens.length), 0);
        const shards = splitShards(batch, nShards);
        countWork(shards, T, c);
        for (const l of await runner.accumulate(shards, T, invNorm)) lossSum += l;
      }
      const loss = norm > 0 ? lossSum / norm : 0;
      const lr = learningRateAt(step, totalSteps, r);
      const diverged = (gnorm: number) => new EngineError(`loss became ${Number.isNaN(loss) || Number.isNaN(gnorm) ? 'NaN' : 'infinite'} at step ${step + 1}: learning rate ${r.lr} is too high?`);
      await runner.update(step + 1, lr, adam, loss, diverged, norm > 0);
      losses.push(loss);
      tokensTrained += tokens;
      stepsRun = step + 1;
      work.steps++;
      cfg.onStep?.({ step: stepsRun, totalSteps, loss, tokens, lr });
      if (cfg.shouldStop?.(stepsRun, loss)) break;
      if (cfg.onCheckpoint && ((r.checkpointEvery > 0 && stepsRun % r.checkpointEvery === 0) || stepsRun === totalSteps)) {
        if (await cfg.onCheckpoint(state.toModel(), stepsRun)) break;
      }
      // Let timers, progress output and abort signals run between steps.
      await new Promise((res) => setImmediate(res));
    }
    trained = true;
  } finally {
    await runner.close();
    if (!trained) state.arena.free();
  }
  try {
    return { model: state.toModel(), stepsRun, tokensTrained, losses };
  } finally {
    // The workers have stopped: the run's memory goes back to the engine's free list (kernels.ts).
    state.arena.free();
  }
}

/**
 * Loss and gradients of a batch (one shard, one thread) — for gradient checks. Gradients are returned by GGUF
 * name in GGUF layout, or by LoRA entry (`blk.i.<proj>.lora_a` [r][in], `lora_b` [out][r]) with `lora`.
 */
export function computeGradients(model: LlamaModel, examples: readonly TokenizedExample[], lora?: { rank: number; alpha?: number; seed: number; init?: Float32Array }): { loss: number; grads: Map<string, Float32Array>; loraParams?: Float32Array } {
  const c = model.config;
  const data = prepareExamples(examples, c, c.contextLength);
  const T = data.reduce((m, e) => Math.max(m, e.tokens.length), 0);
  const rank = lora?.rank ?? 0;
  const state = new TrainState(model, data.length, T, 1, 1, lora ? { rank, scale: (lora.alpha ?? rank) / rank, seed: lora.seed } : undefined);
  const a = state.arena;
  if (state.lora && lora?.init) {
    a.f32(state.lora.params, state.lora.layout.total).set(lora.init);
    state.refreshNatural();
  }
  let norm = 0;
  for (const e of data) for (const w of e.weights) norm += Math.abs(w);
  state.writeShard(0, data);
  state.zeroGrads();
  const lossSum = runShard(a.k, a.memory, c, state.nets[0]!, state.acts[0]!, state.ios[0]!, data.length, T, 1 / norm);
  const g = a.f32(state.grads[0]!, state.trainable.total);
  const grads = new Map<string, Float32Array>();
  if (state.lora) {
    const ll = state.lora.layout;
    for (const e of ll.entries) {
      // Stored transposed: At [in][r] → A [r][in]; Bt [r][out] → B [out][r].
      grads.set(`blk.${e.layer}.${e.proj}.lora_a`, transposeCopy(g.subarray(e.atOff, e.atOff + e.nIn * rank), e.nIn, rank));
      grads.set(`blk.${e.layer}.${e.proj}.lora_b`, transposeCopy(g.subarray(e.btOff, e.btOff + rank * e.nOut), rank, e.nOut));
    }
    return { loss: lossSum / norm, grads, loraParams: a.f32(state.lora.params, ll.total).slice() };
  }
  const tmp = LlamaModel.fromBlock(c, g);
  return { loss: lossSum / norm, grads: tmp.tensors() };
}

function transposeCopy(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!;
  return out;
}
