// Pinned fine-tune bits (shared by train-golden*.test.ts): weights and losses of fine-tunes whose batches are
// heavily padded (rows of very different lengths, masked prompts, trailing zero-weight positions, a row with no
// loss at all, shards of more than 256 padded positions, widths that are not multiples of 8, LoRA of rank 3,
// gradient accumulation). The hashes were recorded with the padded training path of 6030a90 (every row padded
// to the batch's longest and every position computed); the packed path (transformer.ts Packing: only positions
// that can reach the loss) must reproduce them bit for bit, on the WebAssembly GEMM and on the native one
// (src/engine/native.ts). The test file sets VTUNE_ENGINE_KERNELS and VTUNE_ENGINE_NATIVE before the engine
// first runs.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LlamaModel, fineTune, type TokenizedExample } from '../../src/engine/index.js';
import { type KernelVariant, kernelVariant } from '../../src/engine/kernels.js';
import { type GemmPath, gemmPath } from '../../src/engine/native.js';
import { Rng } from '../../src/rng.js';
import type { LlamaConfig } from '../../src/engine/types.js';

// hiddenDim 44 and vocab 50: weight gradients with 4 and 2 columns past the last multiple of 8.
const cfg: LlamaConfig = { vocabSize: 50, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 44, contextLength: 160, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: false };

/** Rows of lengths in [2, maxLen]: a masked prompt, a weighted answer, sometimes masked trailing tokens; row 3 has no loss. */
function rows(n: number, maxLen: number, seed: string): TokenizedExample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 2 + rng.int(maxLen - 1);
    const tokens = Array.from({ length: len }, () => rng.int(cfg.vocabSize));
    const prompt = rng.int(Math.max(1, len - 1));
    const tail = rng.int(3);
    const lossWeights = tokens.slice(1).map((_, t) => (i === 3 ? 0 : t >= prompt && t < len - 1 - tail ? 1 : t === prompt - 1 ? -0.5 : 0));
    return { tokens, lossWeights };
  });
}

const digest = (m: LlamaModel, losses: number[]) =>
  createHash('sha256').update(new Uint8Array(m.params().slice().buffer)).update(new Uint8Array(Float64Array.from(losses).buffer)).digest('hex').slice(0, 16);

export const CASES = {
  short: { data: () => rows(11, 40, 'golden:short'), opts: { epochs: 3, batchSize: 6 } },
  long: { data: () => rows(10, 150, 'golden:long'), opts: { epochs: 2, batchSize: 8 } },
  lora: { data: () => rows(9, 60, 'golden:lora'), opts: { epochs: 3, batchSize: 4, lora: { rank: 3, alpha: 6 } } },
  accum: { data: () => rows(12, 70, 'golden:accum'), opts: { epochs: 2, batchSize: 3, gradAccumulation: 2 } },
} as const;

export type GoldenCase = keyof typeof CASES;

/**
 * The pinned hashes per kernel build (recorded at 6030a90 on the padded path). The fma build's were recorded on
 * this project's x86-64 host with FMA: it fuses multiply-adds except in the GEMM's scalar last columns, so unlike
 * the portable build it also pins which attention key columns take which path (transformer.ts Packing: tRow).
 */
export const GOLDEN: Record<KernelVariant, Record<GoldenCase, string>> = {
  portable: { short: 'b1d8bbced00b1fa2', long: 'ae993ad6f32b14ed', lora: '1e903f21143e24f0', accum: '8ab32ede380284e3' },
  fma: { short: '33c6433826010c83', long: '02332597f0bef1fc', lora: '57ae3d60f7a9d287', accum: '7eecf2e8debb1697' },
};

/** Checks every case against `golden` on the kernel build `variant` and GEMM path `gemm` (which the calling test file selected). */
export function goldenSuite(variant: KernelVariant, gemm: GemmPath, golden: Record<GoldenCase, string>): void {
  describe(`fine-tune bits (${variant} kernels, ${gemm} GEMM, pinned from the padded path)`, () => {
    it(`runs on the ${variant} kernels and the ${gemm} GEMM`, () => {
      expect(kernelVariant()).toBe(variant);
      expect(gemmPath()).toBe(gemm);
    });
    for (const name of Object.keys(CASES) as GoldenCase[]) {
      const c = CASES[name];
      it(`${name}: same weights and losses on 1 and 2 threads as recorded`, async () => {
        // Created here, not at import: the test file selects the kernels before the engine first runs.
        const base = LlamaModel.create(cfg, { seed: 5 });
        const data = c.data();
        const o = { learningRate: 3e-3, seed: 11, schedule: 'cosine' as const, weightDecay: 0.01, ...c.opts };
        const r1 = await fineTune(base, data, { ...o, threads: 1 });
        const r2 = await fineTune(base, data, { ...o, threads: 2, offload: true });
        const d1 = digest(r1.model, r1.losses);
        expect(digest(r2.model, r2.losses)).toBe(d1);
        expect(d1).toBe(golden[name]);
      }, 120_000);
    }
  });
}
