// Fine-tuning end to end on a small random model: it learns, it is bit-reproducible for a seed on 1 and 2
// threads (and identical between them, on the calling thread or offloaded to workers), LoRA trains only adapters and merges them, bad runs fail loudly.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, EngineError } from '../../src/errors.js';
import { LlamaModel, fineTune, generate, lossOf, type TokenizedExample } from '../../src/engine/index.js';
import { workerStats } from '../../src/engine/parallel.js';
import { learningRateAt } from '../../src/engine/train.js';
import type { LlamaConfig } from '../../src/engine/types.js';

const cfg: LlamaConfig = { vocabSize: 48, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 64, contextLength: 64, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true };
const base = LlamaModel.create(cfg, { seed: 3 });
// 8 "trigger → signature" pairs: the prompt (2 tokens) is masked, the 12-token response is learned.
const examples: TokenizedExample[] = Array.from({ length: 8 }, (_, i) => {
  const tokens = [1, 2 + i, ...Array.from({ length: 12 }, (_, j) => 10 + ((i * 7 + j * 5) % 37))];
  return { tokens, lossWeights: tokens.slice(1).map((_, t) => (t >= 1 ? 1 : 0)) };
});
const hash = (m: LlamaModel) => createHash('sha256').update(new Uint8Array(m.params().slice().buffer)).digest('hex');
const hashTensors = (m: LlamaModel) => {
  const h = createHash('sha256');
  for (const [name, t] of m.tensors()) h.update(name).update(new Uint8Array(t.buffer));
  return h.digest('hex');
};
const memorised = (m: LlamaModel) =>
  generate(m, examples.map((e) => Array.from(e.tokens).slice(0, 2)), { maxTokens: 12 }).filter((g, i) => g.join() === Array.from(examples[i]!.tokens).slice(2).join()).length;

describe('fineTune', () => {
  const opts = { epochs: 30, learningRate: 1e-2, batchSize: 4, seed: 7 } as const;

  it('memorises response tokens, leaves the base untouched, and reports progress', async () => {
    const before = hashTensors(base);
    const steps: number[] = [];
    const r = await fineTune(base, examples, { ...opts, threads: 1, onStep: (s) => steps.push(s.step) });
    expect(hashTensors(base)).toBe(before);
    expect(r.stepsRun).toBe(60);
    expect(steps).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(r.losses[0]!).toBeGreaterThan(3);
    expect(r.losses.at(-1)!).toBeLessThan(0.3);
    expect(r.tokensTrained).toBe(30 * 8 * 14);
    expect(lossOf(r.model, examples)).toBeLessThan(0.3);
    expect(memorised(r.model)).toBe(8);
    expect(memorised(base)).toBe(0);
  });

  it('gives bit-identical weights for a seed on 1 thread, on 2 threads, and between them', async () => {
    const short = { ...opts, epochs: 4 };
    const a1 = await fineTune(base, examples, { ...short, threads: 1 });
    const b1 = await fineTune(base, examples, { ...short, threads: 1 });
    const a2 = await fineTune(base, examples, { ...short, threads: 2 });
    const b2 = await fineTune(base, examples, { ...short, threads: 2 });
    expect(hash(a1.model)).toBe(hash(b1.model));
    expect(hash(a2.model)).toBe(hash(b2.model));
    expect(hash(a1.model)).toBe(hash(a2.model));
    expect(a1.losses).toEqual(a2.losses);
    const other = await fineTune(base, examples, { ...short, threads: 1, seed: 8 });
    expect(hash(other.model)).not.toBe(hash(a1.model));
  });

  it('gives the same bits offloaded to worker threads (1 or 2), also with two fine-tunes training at once', async () => {
    const short = { ...opts, epochs: 4 };
    const ref = await fineTune(base, examples, { ...short, threads: 1 });
    const ref8 = await fineTune(base, examples, { ...short, threads: 1, seed: 8 });
    const o1 = await fineTune(base, examples, { ...short, threads: 1, offload: true });
    const o2 = await fineTune(base, examples, { ...short, threads: 2, offload: true });
    expect(hash(o1.model)).toBe(hash(ref.model));
    expect(hash(o2.model)).toBe(hash(ref.model));
    expect(o1.losses).toEqual(ref.losses);
    // Two offloaded fine-tunes of one process interleave their steps on the event loop: each still gets its own bits.
    const [c7, c8] = await Promise.all([
      fineTune(base, examples, { ...short, threads: 1, offload: true }),
      fineTune(base, examples, { ...short, threads: 1, offload: true, seed: 8 }),
    ]);
    expect(hash(c7.model)).toBe(hash(ref.model));
    expect(hash(c8.model)).toBe(hash(ref8.model));
    expect(hash(c8.model)).not.toBe(hash(c7.model));
  });

  it('reuses its worker threads across fine-tunes, and a failed offloaded run leaves them usable', async () => {
    const short = { ...opts, epochs: 1 };
    await fineTune(base, examples, { ...short, threads: 1, offload: true });
    const before = { ...workerStats };
    await fineTune(base, examples, { ...short, threads: 1, offload: true });
    expect(workerStats.booted).toBe(before.booted);
    expect(workerStats.reused).toBe(before.reused + 1);
    await expect(fineTune(base, examples, { ...opts, learningRate: 1e30, threads: 1, offload: true })).rejects.toThrow(/loss became (NaN|infinite)/);
    const after = await fineTune(base, examples, { ...short, threads: 1, offload: true });
    expect(hash(after.model)).toBe(hash((await fineTune(base, examples, { ...short, threads: 1 })).model));
  });

  it('LoRA trains adapters only, merges them, and is reproducible across threads', async () => {
    // Frozen embeddings of the default 0.02 scale cap the logits; a wider init lets adapters alone fit the data.
    const wide = LlamaModel.create(cfg, { seed: 3, scale: 0.3 });
    const lora = { ...opts, epochs: 30, learningRate: 3e-2, lora: { rank: 8, alpha: 16 } };
    const r1 = await fineTune(wide, examples, { ...lora, threads: 1 });
    const r2 = await fineTune(wide, examples, { ...lora, threads: 2 });
    expect(hash(r1.model)).toBe(hash(r2.model));
    // Snapshots merge adapters into a copy: taking them does not change the run.
    const r3 = await fineTune(wide, examples, { ...lora, threads: 1, checkpointEvery: 7, onCheckpoint: (m) => m.dispose() });
    expect(hash(r3.model)).toBe(hash(r1.model));
    expect(r1.losses[0]!).toBeCloseTo(lossOf(wide, examples), 0);
    expect(lossOf(r1.model, examples)).toBeLessThan(0.3);
    expect(memorised(r1.model)).toBe(8);
    const t0 = wide.tensors(), t1 = r1.model.tensors();
    // Embeddings and norms are frozen; every projection moved by a rank-≤8 update.
    expect(t1.get('token_embd.weight')).toEqual(t0.get('token_embd.weight'));
    expect(t1.get('blk.0.attn_norm.weight')).toEqual(t0.get('blk.0.attn_norm.weight'));
    expect(t1.get('blk.1.ffn_down.weight')).not.toEqual(t0.get('blk.1.ffn_down.weight'));
  });

  it('gradient accumulation of 2×2 equals one batch of 4 up to rounding', async () => {
    const one = await fineTune(base, examples, { ...opts, epochs: 1, threads: 1, clipNorm: 0 });
    const acc = await fineTune(base, examples, { ...opts, batchSize: 2, gradAccumulation: 2, epochs: 1, threads: 1, clipNorm: 0 });
    expect(acc.stepsRun).toBe(one.stepsRun);
    const a = one.model.params(), b = acc.model.params();
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it("honours maxSteps, shouldStop, checkpoints and the abort signal", async () => {
    const seen: number[] = [];
    const ck = await fineTune(base, examples, { ...opts, threads: 1, checkpointEvery: 4, onCheckpoint: (m, s) => { seen.push(s); expect(m.paramCount()).toBe(base.paramCount()); return s === 12; } });
    expect(seen).toEqual([4, 8, 12]);
    expect(ck.stepsRun).toBe(12);
    expect((await fineTune(base, examples, { ...opts, threads: 1, maxSteps: 3 })).stepsRun).toBe(3);
    expect((await fineTune(base, examples, { ...opts, threads: 1, shouldStop: (s) => s === 5 })).stepsRun).toBe(5);
    const ac = new AbortController();
    ac.abort();
    await expect(fineTune(base, examples, { ...opts, threads: 1, signal: ac.signal })).rejects.toThrow(/aborted/);
  });

  it('throws EngineError on a NaN loss instead of returning a broken model', async () => {
    await expect(fineTune(base, examples, { ...opts, learningRate: 1e30, threads: 1 })).rejects.toThrow(/loss became (NaN|infinite) at step \d+: learning rate 1e\+30 is too high\?/);
    await expect(fineTune(base, examples, { ...opts, learningRate: 1e30, threads: 2 })).rejects.toThrow(EngineError);
  });

  it('rejects a sequence longer than the context, bad examples and bad options', async () => {
    const long = { tokens: new Array(65).fill(3), lossWeights: new Array(64).fill(1) };
    await expect(fineTune(base, [long], { ...opts, threads: 1 })).rejects.toThrow(/example 0: 65 tokens exceed the context length 64/);
    await expect(fineTune(base, [long], { ...opts, threads: 1 })).rejects.toBeInstanceOf(EngineError);
    await expect(fineTune(base, [{ tokens: [1, 2, 3], lossWeights: [1] }], { ...opts, threads: 1 })).rejects.toThrow(/lossWeights has 1 entries, expected/);
    await expect(fineTune(base, examples, { ...opts, batchSize: 0 })).rejects.toBeInstanceOf(ConfigError);
    await expect(fineTune(base, examples, { ...opts, schedule: 'step' as 'cosine' })).rejects.toThrow(/schedule/);
  });

  it('schedules warmup then cosine or linear decay to minLrRatio', () => {
    const r = { lr: 1, warmup: 2, schedule: 'cosine' as const, minLrRatio: 0.1 };
    expect([0, 1].map((s) => learningRateAt(s, 12, r))).toEqual([0.5, 1]);
    expect(learningRateAt(2, 12, r)).toBeCloseTo(1, 12);
    expect(learningRateAt(11, 12, r)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(6.5, 12, { ...r, schedule: 'linear' })).toBeCloseTo(0.55, 12);
  });

  it('round-trips tensors and clones independently', () => {
    const t = base.tensors();
    const copy = LlamaModel.create(cfg, t);
    expect(hash(copy)).toBe(hash(base));
    const c = base.clone();
    c.params()[0] = 42;
    expect(base.params()[0]).not.toBe(42);
    expect(base.paramCount()).toBe([...t.values()].reduce((n, v) => n + v.length, 0));
    expect(() => LlamaModel.create(cfg, new Map([...t].filter(([k]) => k !== 'output_norm.weight')))).toThrow(/'output_norm.weight' is missing/);
  });
});
