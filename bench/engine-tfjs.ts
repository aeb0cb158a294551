/**
 * The comparison point for bench/engine.ts: the same Llama model trained with @tensorflow/tfjs-backend-wasm
 * (XNNPACK, SIMD, single-threaded in Node). Following ../shared/notes/engine.md §1, every weight matmul uses a
 * custom gradient with explicit transposes (tfjs-wasm's transposed matmuls are ~10× slower) and embeddings are
 * one-hot matmuls (gather's gradient has no wasm kernel). Attention's batched matmuls use tfjs's own gradients.
 */
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../src/rng.js';
import type { LlamaConfig } from '../src/engine/types.js';

/**
 * tfjs-core ships its gradient registrations only as extension-less ESM (dist/register_all_gradients.js), which
 * Node cannot load; the umbrella @tensorflow/tfjs package is not installed. Bundle that one file with esbuild
 * (present as tsx's dependency) and load it: the gradient registry and the engine are globals, so the
 * registrations reach the tfjs-core instance used here.
 */
async function registerGradients(): Promise<void> {
  const esbuild = await import('esbuild');
  const out = join(tmpdir(), 'vtune-bench-tfjs-grads.cjs');
  await esbuild.build({
    stdin: { contents: "import '@tensorflow/tfjs-core/dist/register_all_gradients.js';", resolveDir: process.cwd() },
    bundle: true, format: 'cjs', platform: 'node', outfile: out, logLevel: 'error',
  });
  createRequire(import.meta.url)(out);
}

/** y = a·b with both gradients computed by plain (non-transposed) matmuls of explicit transposes. */
const mmGrad = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = inputs as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      const d = dy as tf.Tensor2D;
      return [tf.matMul(d, tf.transpose(sb)), tf.matMul(tf.transpose(sa), d)];
    },
  };
});
const mm = (a: tf.Tensor, b: tf.Tensor): tf.Tensor2D => mmGrad(a, b) as tf.Tensor2D;

/** Tokens/s of AdamW-free Adam training (tfjs's Adam; same B, T and model) on tfjs-backend-wasm. */
export async function tfjsTrainRate(c: LlamaConfig, B: number, T: number, steps: number): Promise<{ tokPerSec: number; msPerStep: number; tokPerCpuSec: number; backend: string }> {
  await registerGradients();
  await tf.setBackend('wasm');
  await tf.ready();
  const rng = new Rng('tfjs-init');
  const hd = c.dim / c.nHeads, kvDim = hd * c.nKvHeads, group = c.nHeads / c.nKvHeads;
  const rand = (shape: number[], s = 0.02) => tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.normal() * s), shape));
  const ones = (n: number) => tf.variable(tf.ones([n]));
  const emb = rand([c.vocabSize, c.dim]);
  const layers = Array.from({ length: c.nLayers }, () => ({
    an: ones(c.dim), q: rand([c.dim, c.dim]), k: rand([c.dim, kvDim]), v: rand([c.dim, kvDim]), o: rand([c.dim, c.dim]),
    fn: ones(c.dim), g: rand([c.dim, c.hiddenDim]), u: rand([c.dim, c.hiddenDim]), d: rand([c.hiddenDim, c.dim]),
  }));
  const outNorm = ones(c.dim);
  const half = hd / 2;
  const ang = Float32Array.from({ length: T * half }, (_, i) => Math.floor(i / half) * Math.pow(c.ropeTheta, (-2 * (i % half)) / hd));
  const cos = tf.tensor(ang.map(Math.cos), [1, T, 1, half, 1]);
  const sin = tf.tensor(ang.map(Math.sin), [1, T, 1, half, 1]);
  const mask = tf.tensor(Float32Array.from({ length: T * T }, (_, i) => (i % T <= Math.floor(i / T) ? 0 : -1e9)), [1, 1, T, T]);
  const N = B * T;
  const rms = (x: tf.Tensor2D, w: tf.Tensor) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), c.normEps))), w) as tf.Tensor2D;
  const rope = (x: tf.Tensor2D, heads: number) => {
    const r = tf.reshape(x, [B, T, heads, half, 2]);
    const [x0, x1] = tf.split(r, 2, 4);
    const y = tf.concat([tf.sub(tf.mul(x0!, cos), tf.mul(x1!, sin)), tf.add(tf.mul(x0!, sin), tf.mul(x1!, cos))], 4);
    return tf.reshape(y, [B, T, heads, hd]);
  };
  const lossFn = (tokens: tf.Tensor2D, targets: tf.Tensor2D) => {
    let x = mm(tokens, emb);
    for (const L of layers) {
      const xn = rms(x, L.an);
      const q = tf.transpose(rope(mm(xn, L.q), c.nHeads), [0, 2, 1, 3]);
      let k = tf.transpose(rope(mm(xn, L.k), c.nKvHeads), [0, 2, 1, 3]);
      let v = tf.transpose(tf.reshape(mm(xn, L.v), [B, T, c.nKvHeads, hd]), [0, 2, 1, 3]);
      if (group > 1) {
        k = tf.reshape(tf.tile(tf.reshape(k, [B * c.nKvHeads, 1, T * hd]), [1, group, 1]), [B, c.nHeads, T, hd]);
        v = tf.reshape(tf.tile(tf.reshape(v, [B * c.nKvHeads, 1, T * hd]), [1, group, 1]), [B, c.nHeads, T, hd]);
      }
      const s = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), mask);
      const att = tf.reshape(tf.transpose(tf.matMul(tf.softmax(s), v), [0, 2, 1, 3]), [N, c.dim]) as tf.Tensor2D;
      x = tf.add(x, mm(att, L.o));
      const xn2 = rms(x, L.fn);
      const g = mm(xn2, L.g);
      const h = tf.mul(tf.mul(g, tf.sigmoid(g)), mm(xn2, L.u)) as tf.Tensor2D;
      x = tf.add(x, mm(h, L.d));
    }
    const logits = mm(rms(x, outNorm), tf.transpose(emb) as tf.Tensor2D);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), targets), -1))) as tf.Scalar;
  };
  const opt = tf.train.adam(1e-3);
  const times: number[] = [];
  let cpu0: NodeJS.CpuUsage | undefined;
  for (let s = 0; s <= steps; s++) {
    if (s === 1) cpu0 = process.cpuUsage();
    const ids = Int32Array.from({ length: N + B }, () => rng.int(c.vocabSize));
    const inp = Int32Array.from({ length: N }, (_, i) => ids[Math.floor(i / T) * (T + 1) + (i % T)]!);
    const tgt = Int32Array.from({ length: N }, (_, i) => ids[Math.floor(i / T) * (T + 1) + (i % T) + 1]!);
    const t0 = performance.now();
    tf.tidy(() => {
      const tokens = tf.oneHot(tf.tensor1d(inp, 'int32'), c.vocabSize) as tf.Tensor2D;
      const targets = tf.oneHot(tf.tensor1d(tgt, 'int32'), c.vocabSize) as tf.Tensor2D;
      const cost = opt.minimize(() => lossFn(tokens, targets), true);
      cost?.dataSync();
    });
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  const ms = times.slice(1).sort((a, b) => a - b)[Math.floor((times.length - 1) / 2)]!;
  return {
    tokPerSec: Math.round((N * 1000) / ms), msPerStep: Math.round(ms),
    tokPerCpuSec: Math.round((N * steps) / ((cpu.user + cpu.system) / 1e6)), backend: tf.getBackend(),
  };
}
