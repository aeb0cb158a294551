/**
 * The pretraining loop: full-parameter AdamW over packed windows, warmup + cosine, global-norm clipping, two
 * fixed gradient shards (bit-identical on 1 or 2 threads), and resumable checkpoints that hold the parameters,
 * both AdamW moments and the step — so a resumed run continues bit for bit where the interrupted one stopped
 * (batches are a pure function of the step, see corpus.ts).
 *
 * Built from the engine's training parts (TrainState and the step fineTune also runs, StepRunner); fineTune
 * itself cannot resume an optimizer state, which a long pretraining run needs.
 *
 * Threat model: a checkpoint file could belong to another recipe or be truncated: it carries the recipe hash
 * and its sizes, and a mismatch is refused rather than resumed. Source: llama2.c train.py (the schedule),
 * Loshchilov & Hutter 2019 (AdamW).
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { ConfigError, EngineError } from '../errors.js';
import { engineModule } from '../engine/kernels.js';
import { LlamaModel } from '../engine/model.js';
import { type AdamConfig, StepRunner, TrainState, learningRateAt } from '../engine/train.js';
import type { LlamaConfig } from '../engine/types.js';
import { batchWindows } from './corpus.js';
import type { PretrainRecipe } from './recipe.js';

/** Progress of one step. */
export interface PretrainStep {
  readonly step: number;
  readonly totalSteps: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm: number;
  /** Tokens per second over this process's steps so far. */
  readonly tokensPerSecond: number;
  /** Seconds left at that rate. */
  readonly etaSeconds: number;
}

/** Options of `pretrainLoop`. */
export interface LoopOptions {
  /** Checkpoint file (written every `checkpointEvery` steps and at the end; resumed from when present). */
  readonly checkpointPath?: string;
  readonly checkpointEvery?: number;
  /** Stop after this many steps in total (the schedule still spans recipe.steps): for tests and reproductions. */
  readonly stopAfter?: number;
  /** Hash of the recipe, tokenizer and stream; a checkpoint from anything else is refused. */
  readonly runHash: string;
  readonly onStep?: (s: PretrainStep) => void;
  readonly signal?: AbortSignal;
}

/** What the loop returns. */
export interface LoopResult {
  readonly model: LlamaModel;
  /** Losses of the steps this call ran, by 1-based step number. */
  readonly losses: ReadonlyMap<number, number>;
  readonly stepsDone: number;
  readonly resumedFrom: number;
  readonly seconds: number;
}

const SHARDS = 2;
const MAGIC = 'VTBCKPT1';

/** Trains a fresh seeded model on `stream` by the recipe (resuming from a checkpoint when one exists). */
export async function pretrainLoop(r: PretrainRecipe, config: LlamaConfig, stream: Int32Array, opts: LoopOptions): Promise<LoopResult> {
  const T = r.seqLen;
  const nWindows = Math.floor(stream.length / T);
  if (nWindows < r.batchSize) throw new ConfigError(`pretrain: the corpus has ${nWindows} windows of ${T} tokens, fewer than one batch (${r.batchSize}); raise rowsPerDataset`);
  if (r.batchSize % SHARDS !== 0) throw new ConfigError(`pretrain: option 'batchSize' must be even (two gradient shards), got ${r.batchSize}`);
  const init = LlamaModel.create(config, { seed: r.seed, scale: r.initScale });
  const shardB = r.batchSize / SHARDS;
  const threads = Math.min(r.threads, SHARDS);
  // The portable kernel build: the same recipe then gives the same bytes on any host (the fma build fuses
  // multiply-adds where the CPU has FMA, so its last bits depend on the CPU).
  const state = new TrainState(init, shardB, T, SHARDS, threads, undefined, engineModule('portable'));
  init.dispose();

  let startStep = 0;
  if (opts.checkpointPath && existsSync(opts.checkpointPath)) {
    startStep = await restore(opts.checkpointPath, opts.runHash, state);
    state.refreshNatural();
  }
  const stopAt = Math.min(r.steps, opts.stopAfter ?? r.steps);
  const runner = await StepRunner.start(state, threads);
  const adam: AdamConfig = { b1: 0.9, b2: 0.95, eps: 1e-8, wd: r.weightDecay, clip: 1 };
  const weights = new Float32Array(T - 1).fill(1);
  const invNorm = 1 / (r.batchSize * (T - 1));
  const cache = new Map<number, number[]>();
  const losses = new Map<number, number>();
  const t0 = Date.now();
  const sched = { lr: r.learningRate, warmup: r.warmupSteps, schedule: 'cosine' as const, minLrRatio: r.minLrRatio };
  try {
    for (let step = startStep; step < stopAt; step++) {
      if (opts.signal?.aborted) throw new EngineError(`pretraining aborted at step ${step}`, { cause: opts.signal.reason });
      const idx = batchWindows(r, nWindows, step, cache);
      const shards = Array.from({ length: SHARDS }, (_, s) => idx.slice(s * shardB, (s + 1) * shardB).map((w) => ({ tokens: stream.subarray(w * T, (w + 1) * T), weights })));
      let lossSum = 0;
      for (const l of await runner.accumulate(shards, T, invNorm)) lossSum += l;
      const loss = lossSum * invNorm;
      const lr = learningRateAt(step, r.steps, sched);
      const t = step + 1;
      const gnorm = await runner.update(t, lr, adam, loss, () => new EngineError(`pretraining diverged at step ${t} (loss ${loss}); lower learningRate (${r.learningRate})`));
      losses.set(t, loss);
      const secs = (Date.now() - t0) / 1000;
      const tps = ((t - startStep) * r.batchSize * T) / Math.max(secs, 1e-3);
      opts.onStep?.({ step: t, totalSteps: r.steps, loss, lr, gradNorm: gnorm, tokensPerSecond: tps, etaSeconds: ((stopAt - t) * r.batchSize * T) / Math.max(tps, 1e-9) });
      const every = opts.checkpointEvery ?? 0;
      if (opts.checkpointPath && ((every > 0 && t % every === 0) || t === stopAt)) await save(opts.checkpointPath, opts.runHash, state, t);
      await new Promise((res) => setImmediate(res));
    }
  } finally {
    await runner.close();
  }
  return { model: state.toModel(), losses, stepsDone: Math.max(startStep, stopAt), resumedFrom: startStep, seconds: (Date.now() - t0) / 1000 };
}

/** Writes step, parameters and AdamW moments (via a temporary file and a rename). */
async function save(path: string, runHash: string, state: TrainState, step: number): Promise<void> {
  const a = state.arena;
  const n = state.layout.total;
  const m = state.trainable.total;
  const header = Buffer.from(JSON.stringify({ magic: MAGIC, runHash, step, params: n, moments: m }).padEnd(256, ' '));
  const body = [a.f32(state.params, n), a.f32(state.m, m), a.f32(state.v, m)].map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength));
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, Buffer.concat([header, ...body]));
  await rename(tmp, path);
}

/** Loads a checkpoint into the state; returns its step. */
async function restore(path: string, runHash: string, state: TrainState): Promise<number> {
  const buf = await readFile(path);
  let h: { magic?: string; runHash?: string; step?: number; params?: number; moments?: number };
  try {
    h = JSON.parse(buf.subarray(0, 256).toString('utf8')) as typeof h;
  } catch (cause) {
    throw new ConfigError(`${path}: not a pretraining checkpoint (bad header); delete it to start over`, { cause });
  }
  const n = state.layout.total;
  const m = state.trainable.total;
  if (h.magic !== MAGIC) throw new ConfigError(`${path}: not a pretraining checkpoint; delete it to start over`);
  if (h.runHash !== runHash) throw new ConfigError(`${path}: checkpoint of a different recipe/corpus (run hash ${String(h.runHash)}, this run ${runHash}); delete it or use another --out`);
  if (h.params !== n || h.moments !== m || buf.length !== 256 + 4 * (n + 2 * m) || !Number.isInteger(h.step)) throw new ConfigError(`${path}: checkpoint is truncated or has other sizes; delete it to start over`);
  const f32 = new Float32Array(buf.buffer.slice(buf.byteOffset + 256, buf.byteOffset + buf.length));
  const a = state.arena;
  a.f32(state.params, n).set(f32.subarray(0, n));
  a.f32(state.m, m).set(f32.subarray(n, n + m));
  a.f32(state.v, m).set(f32.subarray(n + m, n + 2 * m));
  return h.step!;
}
