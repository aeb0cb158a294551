// Hand-written backward passes against central finite differences of an independent float64 reference
// (test/engine/reference.ts): every parameter of small models, covering every op (embedding, RMSNorm, RoPE,
// grouped-query attention, SwiGLU, tied and untied output, weighted and negative loss weights) and LoRA.
import { describe, expect, it } from 'vitest';
import { LlamaModel, lossOf } from '../../src/engine/index.js';
import { computeGradients } from '../../src/engine/train.js';
import type { LlamaConfig } from '../../src/engine/types.js';
import { LoraLayout } from '../../src/engine/lora.js';
import { PROJ_TENSOR } from '../../src/engine/transformer.js';
import { refLoss, type RefLora, type RefTensors } from './reference.js';

const base: LlamaConfig = { vocabSize: 11, dim: 8, nLayers: 2, nHeads: 2, nKvHeads: 1, hiddenDim: 12, contextLength: 16, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: false };
const examples = [
  { tokens: [1, 2, 3, 4, 5, 6, 7], lossWeights: [1, 1, 0, 1, -0.5, 2] },
  { tokens: [3, 7, 9, 10], lossWeights: [0.5, 1, 1] },
];

const to64 = (m: Map<string, Float32Array>): RefTensors => new Map([...m].map(([k, v]) => [k, Float64Array.from(v)]));

/** Max |analytic − FD| over sampled entries of each tensor, relative to the tensor's largest FD gradient. */
function check(grads: Map<string, Float32Array>, params: Map<string, Float64Array>, loss: () => number): Map<string, number> {
  const out = new Map<string, number>();
  const h = 1e-5;
  for (const [name, g] of grads) {
    const p = params.get(name)!;
    let err = 0, scale = 1e-3;
    // Up to 48 entries per tensor, spread over it (a stride coprime with typical widths hits every row/column kind).
    const step = Math.max(1, Math.floor(p.length / 48)) | 1;
    for (let i = 0; i < p.length; i += step) {
      const o = p[i]!;
      p[i] = o + h;
      const lp = loss();
      p[i] = o - h;
      const lm = loss();
      p[i] = o;
      const fd = (lp - lm) / (2 * h);
      err = Math.max(err, Math.abs(fd - g[i]!));
      scale = Math.max(scale, Math.abs(fd));
    }
    out.set(name, err / scale);
  }
  return out;
}

describe('gradients vs float64 finite differences', () => {
  for (const [label, cfg] of [
    ['untied, GQA 2:1', base],
    ['tied, multi-head 2:2, head size 6 (scalar paths), odd hidden', { ...base, nHeads: 2, nKvHeads: 2, dim: 12, hiddenDim: 13, tiedEmbeddings: true }],
  ] as const) {
    it(`every tensor (${label})`, () => {
      const model = LlamaModel.create(cfg, { seed: 11, scale: 0.4 });
      const t64 = to64(model.tensors());
      const { loss, grads } = computeGradients(model, examples);
      // The WASM forward pass agrees with the reference loss to fp32 precision.
      expect(Math.abs(loss - refLoss(cfg, t64, examples))).toBeLessThan(1e-5);
      expect(Math.abs(lossOf(model, examples) - refLoss(cfg, t64, examples))).toBeLessThan(1e-5);
      expect([...grads.keys()].sort()).toEqual([...t64.keys()].sort());
      const rel = check(grads, t64, () => refLoss(cfg, t64, examples));
      for (const [name, r] of rel) expect(r, name).toBeLessThan(2e-4);
    });
  }

  it('LoRA adapters A and B (base frozen)', () => {
    const cfg = base;
    const model = LlamaModel.create(cfg, { seed: 5, scale: 0.4 });
    const rank = 2, alpha = 3;
    // Start B away from zero so that A's gradient is not trivially zero.
    const probe = computeGradients(model, examples, { rank, alpha, seed: 9 });
    const init = probe.loraParams!.map((v, i) => (v === 0 ? Math.sin(i * 1.7) * 0.3 : v));
    const { grads, loraParams } = computeGradients(model, examples, { rank, alpha, seed: 9, init });
    const t64 = to64(model.tensors());
    const lora: RefLora = new Map();
    const params = new Map<string, Float64Array>();
    // The engine stores At [in][r] and Bt [r][out]; the reference takes A [r][in] and B [out][r].
    for (const e of new LoraLayout(cfg, rank).entries) {
      const a = new Float64Array(rank * e.nIn), b = new Float64Array(e.nOut * rank);
      for (let i = 0; i < e.nIn; i++) for (let r = 0; r < rank; r++) a[r * e.nIn + i] = loraParams![e.atOff + i * rank + r]!;
      for (let r = 0; r < rank; r++) for (let o = 0; o < e.nOut; o++) b[o * rank + r] = loraParams![e.btOff + r * e.nOut + o]!;
      lora.set(`blk.${e.layer}.${PROJ_TENSOR[e.proj]}.weight`, { a, b, rank, scale: alpha / rank });
      params.set(`blk.${e.layer}.${e.proj}.lora_a`, a);
      params.set(`blk.${e.layer}.${e.proj}.lora_b`, b);
    }
    expect(grads.size).toBe(2 * 7 * cfg.nLayers);
    const rel = check(grads, params, () => refLoss(cfg, t64, examples, lora));
    for (const [name, r] of rel) expect(r, name).toBeLessThan(2e-4);
  });
});

