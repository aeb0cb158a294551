/**
 * The lifetime of the engine's WebAssembly memories (src/engine/kernels.ts): a freed arena's memory goes back
 * to a free list and the next arena takes it, zero-filled as a fresh one; a disposed model and a finished
 * fine-tune free theirs; a fine-tune on a recycled memory gives the same bits as on a fresh one.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { LlamaModel, fineTune, type TokenizedExample } from '../../src/engine/index.js';
import { Arena, dropFreeMemories, memoryStats } from '../../src/engine/kernels.js';
import { closeIdleWorkers } from '../../src/engine/parallel.js';
import type { LlamaConfig } from '../../src/engine/types.js';

const cfg: LlamaConfig = { vocabSize: 48, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 64, contextLength: 64, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true };
const examples: TokenizedExample[] = Array.from({ length: 8 }, (_, i) => {
  const tokens = [1, 2 + i, ...Array.from({ length: 12 }, (_, j) => 10 + ((i * 7 + j * 5) % 37))];
  return { tokens, lossWeights: tokens.slice(1).map((_, t) => (t >= 1 ? 1 : 0)) };
});
const hash = (m: LlamaModel) => createHash('sha256').update(new Uint8Array(m.params().slice().buffer)).digest('hex');

afterAll(() => closeIdleWorkers());

describe('engine memories', () => {
  it('recycles a freed arena’s memory zero-filled, and a freed arena refuses any use', () => {
    dropFreeMemories();
    const a = new Arena();
    const memory = a.memory;
    const p = a.alloc(1 << 20);
    a.f32(p, 1 << 20).fill(7);
    const before = memoryStats();
    a.free();
    a.free(); // idempotent
    expect(memoryStats()).toMatchObject({ inUse: before.inUse - 1, free: before.free + 1 });
    expect(a.freed).toBe(true);
    expect(() => a.k).toThrow(/freed/);
    expect(() => a.f32(p, 4)).toThrow(/freed/);
    expect(() => a.alloc(4)).toThrow(/freed/);

    const b = new Arena();
    expect(b.memory).toBe(memory);
    expect(memoryStats()).toMatchObject({ created: before.created, reused: before.reused + 1, inUse: before.inUse });
    const q = b.alloc(1 << 20);
    expect(q).toBe(p);
    expect(b.f32(q, 1 << 20).every((x) => x === 0)).toBe(true);
    b.free();
  });

  it('frees a disposed model’s memory and a fine-tune’s training memory', async () => {
    const base = LlamaModel.create(cfg, { seed: 3 });
    const inUse = memoryStats().inUse;
    const r = await fineTune(base, examples, { epochs: 2, learningRate: 1e-2, batchSize: 4, seed: 7, threads: 2 });
    // Only the returned model holds a memory: the run's own (parameters, gradients, moments) went back.
    expect(memoryStats().inUse).toBe(inUse + 1);
    r.model.dispose();
    base.dispose();
    expect(memoryStats().inUse).toBe(inUse - 1);
    expect(() => base.params()).toThrow(/disposed/);
  });

  it('fine-tunes to the same bits on recycled memories as on fresh ones', async () => {
    const run = async (offload: boolean) => {
      const base = LlamaModel.create(cfg, { seed: 5 });
      const r = await fineTune(base, examples, { epochs: 3, learningRate: 1e-2, batchSize: 4, seed: 11, threads: 2, offload });
      const h = hash(r.model);
      r.model.dispose();
      base.dispose();
      return h;
    };
    dropFreeMemories();
    const created = memoryStats().created;
    const fresh = await run(false);
    expect(memoryStats().created).toBe(created + 3); // base, training run, result: all new
    // The free list now holds the three dirty memories; the next runs take them (workers too, when offloaded).
    expect(await run(false)).toBe(fresh);
    expect(await run(true)).toBe(fresh);
    expect(memoryStats().created).toBe(created + 3);
  });
});
