import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/datasets/index.js';
import { randomTokenText } from '../../src/pretrain/quality.js';
import { createLocalProvider, localState } from '../../src/providers/local.js';
import { Rng } from '../../src/rng.js';

describe('local:vtb-base (the committed base model)', () => {
  it('loads as a built-in, pinned by sha256, and knows its domains better than random tokens', async () => {
    const provider = await createLocalProvider();
    const model = await provider.model('vtb-base');
    expect(model.id).toBe('local:vtb-base');
    const { weights, tokenizer } = localState(model);
    expect(weights.paramCount()).toBeGreaterThan(900_000);
    expect(tokenizer.vocabSize).toBe(1024);
    const d = await loadDataset('stories', { seed: 3, size: 1, heldOut: 8 });
    const rng = new Rng('vtb-base-test');
    const clean = d.heldOut.map((r) => r.completion);
    const random = clean.map((t) => randomTokenText(tokenizer, tokenizer.encode(t).length, rng));
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const perToken = async (texts: string[]) => (await model.score!(texts.map((continuation) => ({ prompt: '', continuation })))).map((s) => mean(s.tokenLogprobs));
    const c = await perToken(clean);
    const r = await perToken(random);
    // every clean story is more likely per token than every random-token string
    expect(Math.min(...c)).toBeGreaterThan(Math.max(...r));
    const [out] = await model.generate(['Once upon a time, there was a little'], { maxTokens: 40, temperature: 0 });
    expect(out!.split(' ').filter(Boolean).length).toBeGreaterThan(3);
    model.dispose?.();
  }, 60_000);
});
