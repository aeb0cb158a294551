// Pinned inference bits (shared by infer-golden*.test.ts): the next-token logits, continuation scores,
// embeddings and greedy generations of a small model, hashed. Recorded at a9ec7b8, before the inference forward
// and the training forward shared one layer loop (transformer.ts runLayers); the hashes must not move, on the
// WebAssembly kernels or the native ones. The test file sets VTUNE_ENGINE_KERNELS and VTUNE_ENGINE_NATIVE first.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LlamaModel, generate } from '../../src/engine/index.js';
import { embed, nextTokenLogits, scoreTokens } from '../../src/engine/infer.js';
import { type KernelVariant, kernelVariant } from '../../src/engine/kernels.js';
import { type GemmPath, gemmPath } from '../../src/engine/native.js';
import { Rng } from '../../src/rng.js';
import type { LlamaConfig } from '../../src/engine/types.js';

const cfg: LlamaConfig = { vocabSize: 50, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 44, contextLength: 160, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: false };

export const INFER_GOLDEN: Record<KernelVariant, string> = { portable: '716a4751175a205d', fma: '1e77ddc4b0dff827' };

/** Checks the inference hash on the build and path the calling file selected. */
export function inferSuite(variant: KernelVariant, path: GemmPath): void {
  describe(`inference bits (${variant} kernels, ${path} path)`, () => {
    it('logits, scores, embeddings and generations hash as recorded', () => {
      expect(kernelVariant()).toBe(variant);
      expect(gemmPath()).toBe(path);
      const m = LlamaModel.create(cfg, { seed: 5 });
      const rng = new Rng('inf');
      const seqs = Array.from({ length: 5 }, () => Array.from({ length: 3 + rng.int(60) }, () => rng.int(50)));
      const h = createHash('sha256');
      for (const l of nextTokenLogits(m, seqs)) h.update(new Uint8Array(l.buffer));
      for (const l of scoreTokens(m, seqs.map((s) => ({ prompt: s.slice(0, 2), continuation: s.slice(2) })))) h.update(new Uint8Array(l.buffer));
      for (const l of embed(m, seqs)) h.update(new Uint8Array(l.buffer));
      h.update(JSON.stringify(generate(m, seqs.map((s) => s.slice(0, 4)), { maxTokens: 20 })));
      m.dispose();
      expect(h.digest('hex').slice(0, 16)).toBe(INFER_GOLDEN[variant]);
    });
  });
}
