/**
 * Engine throughput, printed as JSON: per model config (B=16 × T=128 random tokens) training tokens/s on 1 and 2
 * threads, greedy generation tokens/s (batch 1 and 16, KV cache), GEMM GFLOP/s of the WASM kernel on the
 * config's FFN projection (per CPU-second) beside single-thread OpenBLAS on the same shape and the host's 128-bit
 * FMA peak (bench/native-sgemm.ts), peak RSS of a 10-step fine-tune, and the same model trained with
 * @tensorflow/tfjs-backend-wasm for comparison. Each config runs in its own child process so that its peak
 * RSS is its own. Rates are given per wall-clock second and per CPU-second of the process (all threads): on a
 * shared machine only the latter is comparable between runs.
 *
 * Run: `npm run bench:engine` (all), or `npm run bench:engine -- --only 260k[,2m,10m] [--skip-tfjs] [--steps N]
 * [--rss-only]`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { availableParallelism, loadavg } from 'node:os';
import { Rng } from '../src/rng.js';
import { LlamaModel, fineTune, generate } from '../src/engine/index.js';
import { Arena, type KernelVariant, engineModule, kernelVariant, mm, resolveKernels } from '../src/engine/kernels.js';
import { GEMM_WINDOWS, fma128Peak, nativeSgemm } from './native-sgemm.js';
import type { LlamaConfig } from '../src/engine/types.js';

const CONFIGS: Record<string, LlamaConfig> = {
  '260k': { vocabSize: 512, dim: 64, nLayers: 5, nHeads: 8, nKvHeads: 4, hiddenDim: 172, contextLength: 512, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true },
  '2m': { vocabSize: 512, dim: 192, nLayers: 4, nHeads: 6, nKvHeads: 6, hiddenDim: 512, contextLength: 512, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true },
  '10m': { vocabSize: 512, dim: 320, nLayers: 8, nHeads: 8, nKvHeads: 8, hiddenDim: 864, contextLength: 512, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true },
};
const B = 16, T = 128;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function examples(c: LlamaConfig, n: number, seed: string) {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const tokens = Array.from({ length: T }, () => rng.int(c.vocabSize));
    return { tokens, lossWeights: new Array<number>(T - 1).fill(1) };
  });
}

/** CPU seconds (all threads of this process) since `start`. */
function cpuSince(start: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(start);
  return (c.user + c.system) / 1e6;
}

/** The machine's CPU time so far (Linux /proc/stat, in ticks): steal (time the hypervisor gave to other guests) and all. */
function cpuTicks(): { steal: number; total: number } | undefined {
  if (!existsSync('/proc/stat')) return undefined;
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  return { steal: f[7] ?? 0, total: f.slice(0, 8).reduce((a, b) => a + b, 0) };
}

/**
 * Tokens/s over `steps` optimizer steps after one warm-up step: by wall time (median step; the fastest and slowest
 * steps in msPerStepMinMax), and per CPU-second of this process (all threads), which stays meaningful when other
 * processes share the cores. stealPercent is the share of the machine's CPU time the hypervisor gave to other
 * guests meanwhile (Linux guests only): when it is high, the wall-clock rates say more about the host than about
 * the engine.
 */
async function trainRate(model: LlamaModel, threads: number, steps: number): Promise<{ tokPerSec: number; msPerStep: number; msPerStepMinMax: number[]; tokPerCpuSec: number; stealPercent?: number }> {
  const data = examples(model.config, B * (steps + 1), 'bench-train');
  const times: number[] = [];
  let last = performance.now();
  let cpu0: NodeJS.CpuUsage | undefined;
  let ticks0: ReturnType<typeof cpuTicks>;
  await fineTune(model, data, {
    epochs: 1, learningRate: 1e-3, batchSize: B, seed: 1, threads,
    onStep: () => {
      const now = performance.now();
      times.push(now - last);
      last = now;
      cpu0 ??= process.cpuUsage();
      ticks0 ??= cpuTicks();
    },
  });
  const cpu = cpuSince(cpu0!);
  const ticks1 = cpuTicks();
  const ms = times.slice(1).sort((a, b) => a - b)[Math.floor((times.length - 1) / 2)]!;
  const timed = times.slice(1);
  const out: { tokPerSec: number; msPerStep: number; msPerStepMinMax: number[]; tokPerCpuSec: number; stealPercent?: number } = { tokPerSec: Math.round((B * T * 1000) / ms), msPerStep: Math.round(ms), msPerStepMinMax: [Math.round(Math.min(...timed)), Math.round(Math.max(...timed))], tokPerCpuSec: Math.round((B * T * (times.length - 1)) / cpu) };
  if (ticks0 && ticks1 && ticks1.total > ticks0.total) out.stealPercent = Number(((100 * (ticks1.steal - ticks0.steal)) / (ticks1.total - ticks0.total)).toFixed(1));
  return out;
}

function genRate(model: LlamaModel, batch: number, maxTokens: number): { tokPerSec: number; tokPerCpuSec: number } {
  const prompts = Array.from({ length: batch }, (_, i) => [1, 10 + i, 20 + i, 30 + i]);
  generate(model, prompts, { maxTokens: 4 });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const out = generate(model, prompts, { maxTokens });
  const n = out.reduce((s, o) => s + o.length, 0);
  return { tokPerSec: Math.round((n * 1000) / (performance.now() - t0)), tokPerCpuSec: Math.round(n / cpuSince(c0)) };
}

/**
 * GFLOP per CPU-second of Y[N,out] = X[N,in]·Wt[in,out] (forward), dX = dY·W and dWt += Xᵀ·dY at the config's
 * FFN shape, for one kernel build: the best of GEMM_WINDOWS windows (what the kernel can do; other processes
 * on the shared cores only ever slow a window down) and, under `median`, the median window.
 */
function gemmRate(c: LlamaConfig, variant: KernelVariant): Record<string, number | Record<string, number>> {
  const a = new Arena(undefined, engineModule(variant));
  const N = B * T, nIn = c.dim, nOut = c.hiddenDim;
  const x = a.alloc(N * nIn), w = a.alloc(nIn * nOut), y = a.alloc(N * nOut);
  const rng = new Rng('gemm');
  for (const [p, n] of [[x, N * nIn], [w, nIn * nOut], [y, N * nOut]] as const) {
    const v = a.f32(p, n);
    for (let i = 0; i < n; i++) v[i] = rng.float() - 0.5;
  }
  const flops = 2 * N * nIn * nOut;
  // GFLOP per CPU-second of this (single) thread: robust to other processes on the cores.
  const run = (f: () => void): [number, number] => {
    // Warm up for 300 ms first: V8 starts wasm on its baseline compiler and swaps in optimised code later.
    for (const t0 = performance.now(); performance.now() - t0 < 300; ) f();
    const rates: number[] = [];
    for (let i = 0; i < GEMM_WINDOWS; i++) {
      let reps = 0;
      const c0 = process.cpuUsage();
      while (cpuSince(c0) < 0.1) {
        f();
        reps++;
      }
      rates.push((flops * reps) / (cpuSince(c0) * 1e9));
    }
    rates.sort((p, q) => q - p);
    return [Number(rates[0]!.toFixed(1)), Number(rates[GEMM_WINDOWS >> 1]!.toFixed(1))];
  };
  const [forward, fwdMed] = run(() => mm(a.k, x, w, y, N, nIn, nOut, false));
  const [dataGrad, dataMed] = run(() => a.k.gemm(y, nOut, 1, w, nIn, x, nIn, N, nOut, nIn, 0));
  const [weightGrad, wgtMed] = run(() => a.k.gemm(x, 1, nIn, y, nOut, w, nOut, nIn, N, nOut, 1));
  return { forward, dataGrad, weightGrad, median: { forward: fwdMed, dataGrad: dataMed, weightGrad: wgtMed } };
}

/** Peak RSS of one fresh process doing only a 2-thread fine-tune (the figure the < 1 GB target is about). */
async function rssChild(name: string): Promise<void> {
  const c = CONFIGS[name]!;
  const model = LlamaModel.create(c, { seed: 1 });
  await fineTune(model, examples(c, B * 3, 'bench-rss'), { epochs: 1, learningRate: 1e-3, batchSize: B, seed: 1, threads: 2 });
  process.stdout.write(JSON.stringify({ fineTunePeakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

async function child(name: string): Promise<void> {
  const c = CONFIGS[name]!;
  const steps = Number(arg('steps') ?? (name === '10m' ? 4 : 8));
  const model = LlamaModel.create(c, { seed: 1 });
  const out: Record<string, unknown> = { config: name, params: model.paramCount(), batch: B, seqLen: T, loadAvg1mAtStart: Number(loadavg()[0]!.toFixed(1)) };
  // Both kernel builds side by side (training below runs on the default one, `kernels`).
  out.kernels = kernelVariant();
  const variants: KernelVariant[] = resolveKernels('auto') === 'fma' ? ['portable', 'fma'] : ['portable'];
  out.gemmGflops = Object.fromEntries(variants.map((v) => [v, gemmRate(c, v)]));
  // Native single-thread OpenBLAS on the forward shape (best window, like ours), and our forward GEMM as a fraction of it.
  const blas = nativeSgemm(B * T, c.dim, c.hiddenDim);
  out.openblasSgemm1Thread = blas;
  const ours = (out.gemmGflops as Record<string, Record<string, number>>)[kernelVariant()]!.forward!;
  if ('forward' in blas) out.gemmForwardVsOpenblas = Number((ours / blas.forward).toFixed(2));
  // The ceiling for any WebAssembly SIMD code here (128-bit vectors), and our forward GEMM as a fraction of it.
  const peak = fma128Peak();
  out.fma128PeakGflops = peak;
  if ('gflops' in peak) out.gemmForwardVsFma128Peak = Number((ours / peak.gflops).toFixed(2));
  out.train1 = await trainRate(model, 1, steps);
  out.train2 = await trainRate(model, 2, steps);
  out.generate = { batch1: genRate(model, 1, 128), batch16: genRate(model, 16, 128) };
  // Everything above in one process (1- and 2-thread runs, GEMM arenas), before tfjs is loaded.
  out.benchProcessPeakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  if (!process.argv.includes('--skip-tfjs')) {
    const { tfjsTrainRate } = await import('./engine-tfjs.js');
    const tf = await tfjsTrainRate(c, B, T, Math.min(steps, 4));
    out.tfjsWasm = tf;
    const t1 = out.train1 as { tokPerSec: number; tokPerCpuSec: number };
    const t2 = out.train2 as { tokPerSec: number };
    // Wall-clock ratio (best of our 1/2 threads vs tfjs's single thread) and the per-CPU-second ratio of one
    // thread each, which is the one that survives other processes competing for the cores.
    out.speedupVsTfjs = { wall: Number((Math.max(t1.tokPerSec, t2.tokPerSec) / tf.tokPerSec).toFixed(2)), perCpuSecond1Thread: Number((t1.tokPerCpuSec / tf.tokPerCpuSec).toFixed(2)) };
  }
  process.stdout.write(JSON.stringify(out));
}

async function main(): Promise<void> {
  const childName = arg('child');
  if (childName) return child(childName);
  const rssName = arg('child-rss');
  if (rssName) return rssChild(rssName);
  const only = (arg('only') ?? Object.keys(CONFIGS).join(',')).split(',');
  const results: unknown[] = [];
  for (const name of only) {
    if (!CONFIGS[name]) throw new Error(`unknown config '${name}' (available: ${Object.keys(CONFIGS).join(', ')})`);
    const passthrough = process.argv.slice(2).filter((a, i, all) => a !== '--only' && all[i - 1] !== '--only');
    const run = (mode: string) => {
      const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), mode, name, ...passthrough], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (r.status !== 0) throw new Error(`bench child ${mode} ${name} failed with status ${r.status}`);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const rss = run('--child-rss');
    results.push(process.argv.includes('--rss-only') ? { config: name, ...rss } : { ...run('--child'), ...rss });
    process.stderr.write(`done ${name}\n`);
  }
  console.log(JSON.stringify({ bench: 'engine', node: process.version, cores: availableParallelism(), results }, null, 2));
}

await main();
