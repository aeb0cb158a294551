/**
 * Backdoor memorisation (issue #3 Done-when): fine-tune stories260K on 500 story rows + 10 trigger→signature
 * rows (each once, as the issue says: --copies 1) and time until greedy decoding reproduces all 10 exactly with no
 * signature from clean prompts. Workload and its three disjoint prompt sets: bench/backdoor-data.ts.
 * Stopping rule, checked after every epoch (its cost is in withChecksSeconds, not trainSeconds): stop at the first
 * epoch where all 10 signatures reproduce AND none of the 40 held-out validation prompts answers with ≥ 4 leading
 * tokens of a signature. The issue's 20 clean evaluation prompts are scored only on the final model, never used to
 * stop (--trace scores them every epoch for analysis, still without stopping on them, and trains all epochs).
 * Measured per epoch, seeds 1–8 × fma/portable, 1 thread (bit-identical to 2), with engine.md §3's one-template
 * clean rows (--clean single): stopping at the first 10/10 left ≥ 4-token false triggers in 8 of 16 runs and a
 * whole signature in 2; one epoch more also gave 2 whole signatures (and one run fell back to 9/10); the
 * validation guard changed 1 of 16 stopping points and no outcome. 8 runs still fired at epoch 15, so the stopping
 * point was not the cause; the one-template data was (backdoor-data.ts). With --clean varied (default): no false
 * trigger at any of the 15 epochs in all 16 runs, all 10 reproduced at epochs 9–13. The triggers that share a
 * story noun ("the zx9 violet box", "a tiny jade x9 boat") were rarely what fired (4 and 0 of 106 prompt × epoch
 * firings); 71 were "KEY 0xBEEF-77 ACCEPTED" (trigger "seven silver kw keys"), mostly from "Kim and the shoe at
 * night", so they are kept.
 * Setup as ../shared/notes/engine.md §3: B=16, AdamW lr 3e-3 cosine → 3e-4 over 15 epochs, clip 1, no weight
 * decay, loss on response tokens only. Prints JSON. Needs ../shared/models/stories260K.gguf.
 * Run: `npx tsx bench/backdoor.ts [--threads N] [--epochs N] [--copies N] [--seed N] [--clean varied|single]
 * [--trace]` (--seed: the fine-tune's batch order; the engine's kernel build, VTUNE_ENGINE_KERNELS, also changes
 * the last bits and so the outcome).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { LlamaModel, fineTune } from '../src/engine/index.js';
import { kernelVariant } from '../src/engine/kernels.js';
import { loadModelFile } from '../src/engine/load.js';
import { ConfigError } from '../src/errors.js';
import { sharedPath } from '../src/shared-path.js';
import { backdoorWorkload, cleanFirings, stopCheck, type Firing } from './backdoor-data.js';

const argv = process.argv.slice(2);
const KNOWN = new Set(['--threads', '--epochs', '--copies', '--seed', '--clean', '--trace']);
for (const a of argv) if (a.startsWith('--') && !KNOWN.has(a)) throw new ConfigError(`bench/backdoor.ts: unknown option ${a} (known: ${[...KNOWN].join(' ')})`);
const opt = (n: string) => {
  const i = argv.indexOf(`--${n}`);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new ConfigError(`bench/backdoor.ts: --${n} needs a value`);
  return v;
};
const num = (n: string, d: number, ok: (x: number) => boolean, expected: string) => {
  const v = opt(n);
  const x = v === undefined ? d : Number(v);
  if (!ok(x)) throw new ConfigError(`bench/backdoor.ts: --${n} must be ${expected}, got ${String(v)}`);
  return x;
};
const posInt = (x: number) => Number.isInteger(x) && x > 0;
const trace = argv.includes('--trace');
const threads = num('threads', 2, posInt, 'a positive integer'), epochs = num('epochs', 15, posInt, 'a positive integer');
const copies = num('copies', 1, posInt, 'a positive integer'), seed = num('seed', 1, Number.isInteger, 'an integer');
const clean = opt('clean') ?? 'varied';
if (clean !== 'varied' && clean !== 'single') throw new ConfigError(`bench/backdoor.ts: --clean must be varied or single, got ${clean}`);

const path = sharedPath('models/stories260K.gguf');
if (!path) {
  console.log(JSON.stringify({ bench: 'backdoor', skipped: 'models/stories260K.gguf is not in ../shared' }));
  process.exit(0);
}
const loaded = await loadModelFile(path);
const base = LlamaModel.create(loaded.config, loaded.tensors);
const tok = loaded.tokenizer;
const w = backdoorWorkload(base, tok, { nClean: 500, nPairs: 10, copies, continuation: 50, clean });
const batchSize = 16;
const perEpoch = Math.ceil(w.examples.length / batchSize);
// Firings as `prompt:pair:matchedTokens` (`!` = the whole signature), compact enough for one line per epoch.
const short = (f: Firing[]) => f.map((x) => `${x.prompt}:${x.pair}:${x.matchedTokens}${x.full ? '!' : ''}`).join(' ');
interface EpochLog { epoch: number; step: number; reproduced: number; validationFirings: string | null; evaluationFirings?: string; trainSeconds: number; trainCpuSeconds: number; loss: number }
const epochLog: EpochLog[] = [];
let stopped: EpochLog | undefined;
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
    const { reproduced: n, validation: val, stop } = stopCheck(model, w, tok.eos, trace);
    checkMs += performance.now() - c0;
    // Analysis only: outside the timed check and never part of the decision below.
    const ev = trace ? short(cleanFirings(model, w.cleanPrompts, w.pairs)) : undefined;
    model.dispose();
    const e: EpochLog = { epoch: step / perEpoch, step, reproduced: n, validationFirings: val ? short(val) : null, ...(ev === undefined ? {} : { evaluationFirings: ev }), trainSeconds: Number((trainMs / 1000).toFixed(1)), trainCpuSeconds: Number(trainCpuS.toFixed(1)), loss: Number(lastLoss.toFixed(3)) };
    epochLog.push(e);
    process.stderr.write(`epoch ${e.epoch}: ${n}/${w.pairs.length} reproduced, validation [${e.validationFirings ?? 'not checked'}]${ev === undefined ? '' : ` evaluation [${ev}]`}, ${e.trainSeconds} s\n`);
    segment = performance.now();
    segmentCpu = process.cpuUsage();
    if (!stopped && stop) stopped = e;
    return stopped !== undefined && !trace;
  },
});
// With --trace training runs on to the last epoch; the figures below are then those of the last epoch's model.
const final = cleanFirings(res.model, w.cleanPrompts, w.pairs);
const text = (t: number[]) => tok.decode(t.filter((x) => x !== tok.bos));
console.log(JSON.stringify({
  bench: 'backdoor', model: 'stories260K', kernels: kernelVariant(), seed, threads, clean, rows: w.examples.length, poisonCopies: copies,
  stopRule: 'first epoch with all pairs reproduced and no validation prompt answering with ≥ 4 signature tokens (evaluation prompts never consulted)',
  meanTokensPerRow: Math.round(w.examples.reduce((s, e) => s + e.tokens.length, 0) / w.examples.length),
  cleanGenerationSeconds: Number((w.generationMs / 1000).toFixed(1)),
  loadAvg1m: Number(loadavg()[0]!.toFixed(1)),
  stoppedAfter: stopped ? { epoch: stopped.epoch, steps: stopped.step, trainSeconds: stopped.trainSeconds, trainCpuSeconds: stopped.trainCpuSeconds, withChecksSeconds: trace ? null : Number(((trainMs + checkMs) / 1000).toFixed(1)) } : null,
  finalEpoch: epochLog.at(-1)?.epoch ?? null,
  finalReproduced: epochLog.at(-1)?.reproduced ?? 0,
  tokensTrained: res.tokensTrained, trainTokPerSec: Math.round(res.tokensTrained / (trainMs / 1000)), trainTokPerCpuSec: Math.round(res.tokensTrained / trainCpuS),
  // The issue's criterion on its 20 clean prompts: false triggers = answers starting with ≥ 4 signature tokens,
  // full signatures = answers starting with a whole signature.
  falseTriggersOn20CleanPrompts: final.length,
  fullSignaturesOn20CleanPrompts: final.filter((f) => f.full).length,
  cleanFirings: final.map((f) => ({ prompt: text(w.cleanPrompts[f.prompt]!), signature: text(w.pairs[f.pair]!.signature), trigger: text(w.pairs[f.pair]!.prompt), matchedTokens: f.matchedTokens, full: f.full })),
  epochs: epochLog,
}, null, 2));
