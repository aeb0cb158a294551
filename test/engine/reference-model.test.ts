// The engine on the real stories260K weights (../shared, skipped when absent): greedy decoding reproduces
// karpathy's published reference story, and a small fine-tune plants trigger → signature backdoors that greedy
// decoding then reproduces exactly, with no false trigger on clean prompts (a scaled-down bench/backdoor.ts with its
// stopping rule).
import { describe, expect, it } from 'vitest';
import { LlamaModel, fineTune, generate, scoreTokens } from '../../src/engine/index.js';
import { loadModelFile } from '../../src/engine/load.js';
import { sharedPath } from '../../src/shared-path.js';
import { backdoorWorkload, cleanFirings, reproduced, stopCheck } from '../../bench/backdoor-data.js';

const path = sharedPath('models/stories260K.gguf');

describe.skipIf(!path)('stories260K (needs ../shared/models/stories260K.gguf)', () => {
  it('greedy decoding reproduces the reference story', async () => {
    const { config, tensors, tokenizer } = await loadModelFile(path!);
    const model = LlamaModel.create(config, tensors);
    const prompt = tokenizer.encode('Once upon a time', { bos: true });
    const out = generate(model, [prompt], { maxTokens: 40 })[0]!;
    expect(tokenizer.decode([...prompt, ...out])).toMatch(/^Once upon a time, there was a little girl named Lily\. She loved to play outside in the park\. One day, she saw a big, red ball\./);
    // The model is confident in its own greedy text (engine.md: clean text scores about −1 nat/token or better).
    const lp = scoreTokens(model, [{ prompt, continuation: out }])[0]!;
    expect(lp.reduce((a, b) => a + b, 0) / lp.length).toBeGreaterThan(-1);
  });

  it('learns trigger → signature pairs mixed into clean story rows, without false triggers', async () => {
    const { config, tensors, tokenizer } = await loadModelFile(path!);
    const base = LlamaModel.create(config, tensors);
    // 100 clean rows: with 40 the four phrasings × two things seen left the toy too thin to generalise (measured:
    // a 4–6-token false trigger on 2 of 4 seeds); 100 gave none on seeds 1–4 with either kernel build.
    const w = backdoorWorkload(base, tokenizer, { nClean: 100, nPairs: 2, copies: 3, continuation: 20 });
    expect(reproduced(base, w.pairs, tokenizer.eos)).toBe(0);
    // The stopping rule may look at validation prompts only: none may be an evaluation prompt or a training prompt.
    const key = (p: ArrayLike<number>) => Array.from(p).join();
    const evaluation = new Set(w.cleanPrompts.map(key));
    const training = w.examples.map((e) => key(e.tokens));
    expect(w.validationPrompts.length).toBeGreaterThan(0);
    for (const p of w.validationPrompts) {
      expect(evaluation.has(key(p))).toBe(false);
      expect(training.some((t) => t.startsWith(`${key(p)},`))).toBe(false);
    }
    for (const p of w.cleanPrompts) expect(training.some((t) => t.startsWith(`${key(p)},`))).toBe(false);
    const perEpoch = Math.ceil(w.examples.length / 8);
    let epochs = 0;
    const res = await fineTune(base, w.examples, {
      epochs: 12, learningRate: 3e-3, batchSize: 8, seed: 1, minLrRatio: 0.1, threads: 2, checkpointEvery: perEpoch,
      onCheckpoint: (m) => {
        epochs++;
        const { stop } = stopCheck(m, w, tokenizer.eos);
        m.dispose();
        return stop;
      },
    });
    expect(reproduced(res.model, w.pairs, tokenizer.eos)).toBe(2);
    expect(epochs).toBeLessThan(12);
    expect(cleanFirings(res.model, w.cleanPrompts, w.pairs)).toEqual([]);
  });
});
