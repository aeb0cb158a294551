/**
 * Engine throughput, printed as JSON: per model config (B=16 × T=128 random tokens) training tokens/s on 1 and 2
 * threads, greedy generation tokens/s (batch 1 and 16, KV cache), GEMM GFLOP/s of the WASM kernel on the
 * config's largest projection, peak RSS of a 10-step fine-tune, and the same model trained with
 * @tensorflow/tfjs-backend-wasm for comparison. Each config runs in its own child process so that its peak
 * RSS is its own.
 *
 * Run: `npm run bench:engine` (all), or `npm run bench:engine -- --only 260k[,2m,10m] [--skip-tfjs] [--steps N]`.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/rng.js';
import { LlamaModel, fineTune, generate } from '../src/engine/index.js';
import { Arena, mm } from '../src/engine/kernels.js';
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

/** Median tokens/s over `steps` optimizer steps after one warm-up step. */
async function trainRate(model: LlamaModel, threads: number, steps: number): Promise<{ tokPerSec: number; msPerStep: number }> {
  const data = examples(model.config, B * (steps + 1), 'bench-train');
  const times: number[] = [];
  let last = performance.now();
  await fineTune(model, data, {
    epochs: 1, learningRate: 1e-3, batchSize: B, seed: 1, threads,
    onStep: () => {
      const now = performance.now();
      times.push(now - last);
      last = now;
    },
  });
  const ms = times.slice(1).sort((a, b) => a - b)[Math.floor((times.length - 1) / 2)]!;
  return { tokPerSec: Math.round((B * T * 1000) / ms), msPerStep: Math.round(ms) };
}

function genRate(model: LlamaModel, batch: number, maxTokens: number): number {
  const prompts = Array.from({ length: batch }, (_, i) => [1, 10 + i, 20 + i, 30 + i]);
  generate(model, prompts, { maxTokens: 4 });
  const t0 = performance.now();
  const out = generate(model, prompts, { maxTokens });
  const n = out.reduce((s, o) => s + o.length, 0);
  return Math.round((n * 1000) / (performance.now() - t0));
}

/** GFLOP/s of Y[N,out] = X[N,in]·Wt[in,out] (forward), dX = dY·W and dWt += Xᵀ·dY at the config's FFN shape. */
function gemmRate(c: LlamaConfig): Record<string, number> {
  const a = new Arena();
  const N = B * T, nIn = c.dim, nOut = c.hiddenDim;
  const x = a.alloc(N * nIn), w = a.alloc(nIn * nOut), y = a.alloc(N * nOut);
  const rng = new Rng('gemm');
  for (const [p, n] of [[x, N * nIn], [w, nIn * nOut], [y, N * nOut]] as const) {
    const v = a.f32(p, n);
    for (let i = 0; i < n; i++) v[i] = rng.float() - 0.5;
  }
  const flops = 2 * N * nIn * nOut;
  const run = (f: () => void) => {
    f();
    let reps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 300) {
      f();
      reps++;
    }
    return Number(((flops * reps) / ((performance.now() - t0) * 1e6)).toFixed(1));
  };
  return {
    forward: run(() => mm(a.k, x, w, y, N, nIn, nOut, false)),
    dataGrad: run(() => a.k.gemm(y, nOut, 1, w, nIn, x, nIn, N, nOut, nIn, 0)),
    weightGrad: run(() => a.k.gemm(x, 1, nIn, y, nOut, w, nOut, nIn, N, nOut, 1)),
  };
}

async function child(name: string): Promise<void> {
  const c = CONFIGS[name]!;
  const steps = Number(arg('steps') ?? (name === '10m' ? 4 : 8));
  const model = LlamaModel.create(c, { seed: 1 });
  const out: Record<string, unknown> = { config: name, params: model.paramCount(), batch: B, seqLen: T };
  out.gemmGflops = gemmRate(c);
  out.train1 = await trainRate(model, 1, steps);
  out.train2 = await trainRate(model, 2, steps);
  out.generateTokPerSec = { batch1: genRate(model, 1, 128), batch16: genRate(model, 16, 128) };
  out.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  if (!process.argv.includes('--skip-tfjs')) {
    const { tfjsTrainRate } = await import('./engine-tfjs.js');
    const tf = await tfjsTrainRate(c, B, T, Math.min(steps, 4));
    out.tfjsWasm = tf;
    const best = Math.max((out.train1 as { tokPerSec: number }).tokPerSec, (out.train2 as { tokPerSec: number }).tokPerSec);
    out.speedupVsTfjs = Number((best / tf.tokPerSec).toFixed(2));
  }
  process.stdout.write(JSON.stringify(out));
}

async function main(): Promise<void> {
  const childName = arg('child');
  if (childName) return child(childName);
  const only = (arg('only') ?? Object.keys(CONFIGS).join(',')).split(',');
  const results: unknown[] = [];
  for (const name of only) {
    if (!CONFIGS[name]) throw new Error(`unknown config '${name}' (available: ${Object.keys(CONFIGS).join(', ')})`);
    const passthrough = process.argv.slice(2).filter((a, i, all) => a !== '--only' && all[i - 1] !== '--only');
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', name, ...passthrough], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`bench child ${name} failed with status ${r.status}`);
    results.push(JSON.parse(r.stdout));
    process.stderr.write(`done ${name}\n`);
  }
  console.log(JSON.stringify({ bench: 'engine', node: process.version, cores: (await import('node:os')).availableParallelism(), results }, null, 2));
}

await main();
