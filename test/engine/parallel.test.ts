// The training step's thread split: the optimizer's parts tile the trainable block at tensor boundaries and
// transpose every matrix once; updating by parts gives the same bytes as one pass; 1- and 2-thread steps give
// the same parameters and moments; a failing worker surfaces as an EngineError instead of hanging the run.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/errors.js';
import { LlamaModel } from '../../src/engine/index.js';
import { engineModule, kernelPaths } from '../../src/engine/kernels.js';
import { ShardPool, applyPart, reducePart, type AdamStep } from '../../src/engine/parallel.js';
import { StepRunner, TrainState } from '../../src/engine/train.js';
import type { LlamaConfig } from '../../src/engine/types.js';
import { Rng } from '../../src/rng.js';

const cfg: LlamaConfig = { vocabSize: 48, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 64, contextLength: 32, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: false };
const base = LlamaModel.create(cfg, { seed: 4, scale: 0.2 });
const adam: AdamStep = { gradScale: 0.37, lr: 1e-2, b1: 0.9, b2: 0.95, eps: 1e-8, wd: 0.1, bc1: 0.19, bc2: 0.0975 };

/** Bytes of every buffer the optimizer touches, the trainable block first. */
function snapshot(s: TrainState): string[] {
  const a = s.arena;
  const n = s.trainable.total;
  const bufs = [a.f32(s.trainable.ptr, n), a.f32(s.params, s.layout.total), a.f32(s.nat, s.layout.total), a.f32(s.m, n), a.f32(s.v, n), ...s.grads.map((g) => a.f32(g, n))];
  if (s.lora) bufs.push(a.f32(s.lora.nat, n));
  return bufs.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64'));
}

/** Fills both shard gradients with the same seeded noise in every state. */
function noise(states: TrainState[], seed: string): void {
  for (const s of states) {
    const rng = new Rng(seed);
    for (const g of s.grads) {
      const f = s.arena.f32(g, s.trainable.total);
      for (let i = 0; i < f.length; i++) f[i] = rng.float() - 0.5;
    }
  }
}

describe('optimizer parts', () => {
  for (const lora of [undefined, { rank: 3, scale: 2, seed: 1 }]) {
    it(`tile the ${lora ? 'LoRA' : 'base'} block at tensor starts and transpose each matrix once`, () => {
      const s = new TrainState(base, 1, 8, 2, 2, lora);
      const starts = new Set(lora ? s.lora!.layout.entries.flatMap((e) => [e.atOff, e.btOff]) : [...s.layout.slots.values()].map((t) => t.offset));
      const matrices = lora ? 2 * s.lora!.layout.entries.length : [...s.layout.slots.values()].filter((t) => t.matrix).length;
      for (const n of [1, 2, 3]) {
        const { parts, total } = s.updatePlan(n);
        expect(parts).toHaveLength(n);
        expect(parts[0]!.lo).toBe(0);
        expect(parts.at(-1)!.hi).toBe(total);
        parts.forEach((p, i) => {
          if (i > 0) expect(p.lo).toBe(parts[i - 1]!.hi);
          expect(p.hi).toBeGreaterThan(p.lo);
          expect(starts.has(p.lo)).toBe(true);
        });
        const dsts = parts.flatMap((p) => p.transposes.map((t) => t[1]));
        expect(dsts).toHaveLength(matrices);
        expect(new Set(dsts).size).toBe(matrices);
      }
      // Two parts carry comparable work (floats updated plus floats transposed).
      const work = s.updatePlan(2).parts.map((p) => p.hi - p.lo + p.transposes.reduce((c, t) => c + t[2] * t[3], 0));
      expect(Math.max(...work) / Math.min(...work)).toBeLessThan(1.5);
    });

    it(`update the ${lora ? 'LoRA' : 'base'} block by parts to the same bytes as in one pass`, () => {
      const one = new TrainState(base, 1, 8, 2, 1, lora), three = new TrainState(base, 1, 8, 2, 1, lora);
      noise([one, three], 'grads');
      for (const [s, n] of [[one, 1], [three, 3]] as const) {
        const plan = s.updatePlan(n);
        for (const p of plan.parts) reducePart(s.arena.k, plan, p);
        for (const p of plan.parts) applyPart(s.arena.k, plan, p, adam);
      }
      const a = snapshot(one), b = snapshot(three);
      expect(b).toEqual(a);
      // The update moved the weights and cleared both gradients.
      expect(a[0]).not.toBe(snapshot(new TrainState(base, 1, 8, 2, 1, lora))[0]);
      const g = three.arena.f32(three.grads[1]!, three.trainable.total);
      expect(g.every((x) => x === 0)).toBe(true);
    });
  }
});

describe('StepRunner', () => {
  const rng = new Rng('batch');
  const shards = [0, 1].map(() => Array.from({ length: 2 }, () => ({ tokens: Int32Array.from({ length: 12 }, () => rng.int(cfg.vocabSize)), weights: new Float32Array(11).fill(1) })));

  it('gives the same parameters and moments on 1 and 2 threads, clipping included', async () => {
    const snaps: string[][] = [];
    for (const threads of [1, 2]) {
      const s = new TrainState(base, 2, 12, 2, threads);
      const runner = await StepRunner.start(s, threads);
      try {
        const losses: number[][] = [];
        for (let t = 1; t <= 3; t++) {
          losses.push(await runner.accumulate(shards, 12, 1 / 44));
          // clip 0.05 is far below this model's gradient norm: every step is clipped.
          const gnorm = await runner.update(t, 1e-2, { b1: 0.9, b2: 0.95, eps: 1e-8, wd: 0.1, clip: 0.05 }, 1, () => new Error('diverged'));
          expect(gnorm).toBeGreaterThan(0.05);
        }
        snaps.push([...snapshot(s), JSON.stringify(losses)]);
      } finally {
        await runner.close();
      }
    }
    expect(snaps[1]).toEqual(snaps[0]);
  });

  it('reports a failing worker as an EngineError and stays usable', async () => {
    const s = new TrainState(base, 2, 12, 2, 2);
    const pool = await ShardPool.start([{ module: engineModule(), paths: kernelPaths(), memory: s.arena.memory, config: cfg, nets: s.nets, ios: s.ios, acts: s.acts[1]!, plan: s.updatePlan(2), part: 1 }]);
    try {
      pool.runShards(0, { shards: [{ shard: 5, B: 1 }], T: 12, invNorm: 1 });
      await expect(pool.wait(0)).rejects.toThrow(EngineError);
      pool.runShards(0, { shards: [{ shard: 5, B: 1 }], T: 12, invNorm: 1 });
      await expect(pool.wait(0)).rejects.toThrow(/training worker failed: .+/);
      s.writeShard(1, shards[1]!);
      pool.runShards(0, { shards: [{ shard: 1, B: 2 }], T: 12, invNorm: 1 });
      const [loss] = await pool.wait(0);
      expect(loss).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });
});
