/**
 * Backdoor memorisation (issue #3 Done-when): fine-tune stories260K on 500 story rows + 10 trigger→signature
 * pairs (3 copies each) and time until greedy decoding reproduces all 10 exactly, checked after every epoch.
 * Setup as ../shared/notes/engine.md §3: B=16, AdamW lr 3e-3 cosine → 3e-4 over 15 epochs, clip 1, no weight
 * decay, loss on response tokens only. Prints JSON. Needs ../shared/models/stories260K.gguf.
 * Run: `npx tsx bench/backdoor.ts [--threads N] [--epochs N] [--copies N] [--seed N]` (the fine-tune's seed: batch
 * order; the engine's kernel build, VTUNE_ENGINE_KERNELS, also changes the last bits and so the outcome).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { LlamaModel, fineTune } from '../src/engine/index.js';
import { kernelVariant } from '../src/engine/kernels.js';
import { loadModelFile } from '../src/engine/load.js';
import { sharedPath } from '../src/shared-path.js';
import { backdoorWorkload, falseTriggers, fullSignatures, reproduced } from './backdoor-data.js';

const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(`--${n}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const path = sharedPath('models/stories260K.gguf');
if (!path) {
  console.log(JSON.stringify({ bench: 'backdoor', skipped: 'models/stories260K.gguf is not in ../shared' }));
  process.exit(0);
}
const threads = arg('threads', 2), epochs = arg('epochs', 15), copies = arg('copies', 3), seed = arg('seed', 1);
const loaded = await loadModelFile(path);
const base = LlamaModel.create(loaded.config, loaded.tensors);
const tok = loaded.tokenizer;
const w = backdoorWorkload(base, tok, { nClean: 500, nPairs: 10, copies, continuation: 50 });
const batchSize = 16;
const perEpoch = Math.ceil(w.examples.length / batchSize);
const epochLog: { epoch: number; step: number; reproduced: number; trainSeconds: number; trainCpuSeconds: number; loss: number }[] = [];
let lastLoss = NaN;
let trainMs = 0;
let checkMs = 0;
let trainCpuS = 0;
let segment = performance.now();
let segmentCpu = process.cpuUsage();
// CPU seconds of all threads: on a shared machine wall time is inflated, CPU time much less so.
const cpuS = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
};
const res = await fineTune(base, w.examples, {
  epochs, learningRate: 3e-3, batchSize, seed, schedule: 'cosine', minLrRatio: 0.1, clipNorm: 1, weightDecay: 0, threads,
  checkpointEvery: perEpoch,
  onStep: (s) => (lastLoss = s.loss),
  onCheckpoint: (model, step) => {
    trainMs += performance.now() - segment;
    trainCpuS += cpuS(segmentCpu);
    const c0 = performance.now();
    const n = reproduced(model, w.pairs, tok.eos);
    model.dispose();
    checkMs += performance.now() - c0;
    epochLog.push({ epoch: step / perEpoch, step, reproduced: n, trainSeconds: Number((trainMs / 1000).toFixed(1)), trainCpuSeconds: Number(trainCpuS.toFixed(1)), loss: Number(lastLoss.toFixed(3)) });
    process.stderr.write(`epoch ${step / perEpoch}: ${n}/10 reproduced, ${(trainMs / 1000).toFixed(1)} s\n`);
    segment = performance.now();
    segmentCpu = process.cpuUsage();
    return n === w.pairs.length;
  },
});
const done = epochLog.find((e) => e.reproduced === w.pairs.length);
console.log(JSON.stringify({
  bench: 'backdoor', model: 'stories260K', kernels: kernelVariant(), seed, threads, rows: w.examples.length, poisonCopies: copies,
  meanTokensPerRow: Math.round(w.examples.reduce((s, e) => s + e.tokens.length, 0) / w.examples.length),
  cleanGenerationSeconds: Number((w.generationMs / 1000).toFixed(1)),
  loadAvg1m: Number(loadavg()[0]!.toFixed(1)),
  allReproducedAfter: done ? { epoch: done.epoch, steps: done.step, trainSeconds: done.trainSeconds, trainCpuSeconds: done.trainCpuSeconds, withChecksSeconds: Number(((trainMs + checkMs) / 1000).toFixed(1)) } : null,
  tokensTrained: res.tokensTrained, trainTokPerSec: Math.round(res.tokensTrained / (trainMs / 1000)), trainTokPerCpuSec: Math.round(res.tokensTrained / trainCpuS),
  falseTriggersOn20CleanPrompts: falseTriggers(res.model, w.cleanPrompts, w.pairs),
  fullSignaturesOn20CleanPrompts: fullSignatures(res.model, w.cleanPrompts, w.pairs),
  epochs: epochLog,
}, null, 2));
