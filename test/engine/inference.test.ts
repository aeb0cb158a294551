// Inference against independent references: KV-cache decoding vs full-forward argmax, scores vs the float64
// reference and vs the training loss, embeddings vs the reference's pooled hidden states, seeded sampling.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/errors.js';
import { LlamaModel, embed, generate, lossOf, scoreTokens } from '../../src/engine/index.js';
import type { LlamaConfig } from '../../src/engine/types.js';
import { refForward, type RefTensors } from './reference.js';

const cfg: LlamaConfig = { vocabSize: 40, dim: 24, nLayers: 2, nHeads: 6, nKvHeads: 2, hiddenDim: 40, contextLength: 48, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true };
// A large init scale makes the random model's predictions peaked, so argmax ties are unlikely.
const model = LlamaModel.create(cfg, { seed: 21, scale: 0.6 });
const t64: RefTensors = new Map([...model.tensors()].map(([k, v]) => [k, Float64Array.from(v)]));
const prompts = [[1, 5, 9], [1, 2], [1, 30, 31, 32, 33, 7]];

function argmax(v: Float64Array): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

describe('inference', () => {
  it('batched KV-cache greedy decoding equals the full-forward argmax at every step', () => {
    const out = generate(model, prompts, { maxTokens: 20 });
    prompts.forEach((p, i) => {
      expect(out[i]).toHaveLength(20);
      const seq = [...p];
      for (const tok of out[i]!) {
        const { logp } = refForward(cfg, t64, seq);
        expect(tok).toBe(argmax(logp.at(-1)!));
        seq.push(tok);
      }
    });
    // Batching does not change a sequence's continuation.
    expect(generate(model, [prompts[2]!], { maxTokens: 20 })[0]).toEqual(out[2]);
  });

  it('stops at a stop token (excluded) and at the end of the context', () => {
    const free = generate(model, [prompts[0]!], { maxTokens: 10 })[0]!;
    const stop = free[4]!;
    const cut = generate(model, [prompts[0]!], { maxTokens: 10, stopTokens: [stop] })[0]!;
    expect(cut).toEqual(free.slice(0, free.indexOf(stop)));
    const long = generate(model, [prompts[0]!], { maxTokens: 100 })[0]!;
    expect(long.length).toBe(cfg.contextLength - prompts[0]!.length + 1);
  });

  it('a row that stops on its first token does not disturb the others (even with dirty scratch)', () => {
    const first = generate(model, [prompts[0]!], { maxTokens: 1 })[0]![0]!;
    const solo = generate(model, [prompts[1]!], { maxTokens: 10, stopTokens: [first] })[0]!;
    // Leave float activations in the scratch region the next call reuses.
    scoreTokens(model, [{ prompt: [1, 2, 3], continuation: [4, 5, 6, 7, 8, 9, 10, 11] }]);
    const out = generate(model, [prompts[0]!, prompts[1]!], { maxTokens: 10, stopTokens: [first] });
    expect(out[0]).toEqual([]);
    expect(out[1]).toEqual(solo);
  });

  it('samples reproducibly from a seed, differently across seeds, and stays inside top-p', () => {
    const a = generate(model, prompts, { maxTokens: 15, temperature: 1, topP: 0.9, seed: 4 });
    const b = generate(model, prompts, { maxTokens: 15, temperature: 1, topP: 0.9, seed: 4 });
    const c = generate(model, prompts, { maxTokens: 15, temperature: 1, topP: 0.9, seed: 5 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    // topP tiny = greedy.
    expect(generate(model, prompts, { maxTokens: 8, temperature: 1, topP: 1e-9, seed: 1 })).toEqual(generate(model, prompts, { maxTokens: 8 }));
  });

  it('scores equal the float64 reference log-probs, and their mean equals the loss with the same mask', () => {
    const items = [{ prompt: [1, 5], continuation: [9, 3, 7, 2] }, { prompt: [1], continuation: [4] }, { prompt: [1, 8, 8, 8], continuation: [] }];
    const scores = scoreTokens(model, items);
    items.forEach((it, i) => {
      const seq = [...it.prompt, ...it.continuation];
      const { logp } = refForward(cfg, t64, seq);
      expect(scores[i]).toHaveLength(it.continuation.length);
      it.continuation.forEach((tok, j) => expect(Math.abs(scores[i]![j]! - logp[it.prompt.length - 1 + j]![tok]!)).toBeLessThan(2e-5));
    });
    const examples = items.filter((it) => it.continuation.length).map((it) => ({
      tokens: [...it.prompt, ...it.continuation],
      lossWeights: [...it.prompt.slice(1).map(() => 0), ...it.continuation.map(() => 1)],
    }));
    const all = scores.flatMap((s) => [...s]);
    expect(lossOf(model, examples)).toBeCloseTo(-all.reduce((x, y) => x + y, 0) / all.length, 10);
  });

  it('embeddings are the mean of the final normalised hidden states', () => {
    const seqs = [[1, 2, 3, 4], [1, 9]];
    const e = embed(model, seqs);
    seqs.forEach((s, i) => {
      const { hidden } = refForward(cfg, t64, s);
      for (let d = 0; d < cfg.dim; d++) {
        const mean = hidden.reduce((acc, h) => acc + h[d]!, 0) / hidden.length;
        expect(Math.abs(e[i]![d]! - mean)).toBeLessThan(1e-5);
      }
    });
  });

  it('rejects over-long and invalid input with EngineError', () => {
    expect(() => scoreTokens(model, [{ prompt: [1], continuation: new Array(cfg.contextLength).fill(2) }])).toThrow(/context length 48/);
    expect(() => generate(model, [new Array(cfg.contextLength).fill(1)], { maxTokens: 1 })).toThrow(EngineError);
    expect(() => generate(model, [[1, 99]], { maxTokens: 1 })).toThrow(/token 1 is 99/);
    expect(() => embed(model, [[]])).toThrow(EngineError);
  });
});
