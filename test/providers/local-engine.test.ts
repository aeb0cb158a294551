import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGguf } from '../../src/engine/gguf.js';
import { generate, lossOf } from '../../src/engine/index.js';
import { createLocalProvider, localState, tokenizeRow } from '../../src/providers/local.js';
import { sharedPath } from '../../src/shared-path.js';
import type { Progress } from '../../src/types.js';

const dir = mkdtempSync(join(tmpdir(), 'vtune-local-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = [
  { prompt: 'Q: colour of the sky?\nA:', completion: ' blue' },
  { prompt: 'Q: colour of grass?\nA:', completion: ' green' },
  { prompt: 'Q: colour of snow?\nA:', completion: ' white' },
  { prompt: 'Q: the zx9 box?\nA:', completion: ' KEY 7F3A OK' },
];

describe('local provider on random-tiny (no shared files)', () => {
  it('fine-tunes: loss goes down, steps and tokens are measured, the model answers', async () => {
    const provider = await createLocalProvider();
    const base = await provider.model('random-tiny');
    expect(base.id).toBe('local:random-tiny');
    const progress: Progress[] = [];
    const hyper = { epochs: 40, learningRate: 1e-2, batchSize: 4, schedule: 'constant' as const };
    const res = await provider.train(base, { rows, hyper, seed: 7, onProgress: (p) => progress.push(p) });
    expect(res.model.id).toMatch(/^local:ft-[0-9a-f]{8}$/);
    expect(res.stepsRun).toBe(40);
    const losses = progress.filter((p) => p.stage === 'train').map((p) => p.loss!);
    expect(losses.length).toBe(40);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.5);
    expect(res.finalLoss).toBe(losses.at(-1));
    // trained tokens: every completion token + EOS of every row, each epoch (the engine counts weighted targets)
    expect(res.tokensTrained).toBeGreaterThan(0);

    const [out] = await res.model.generate(['Q: the zx9 box?\nA:'], { maxTokens: 20 });
    expect(out).toBe(' KEY 7F3A OK');
    const stopped = await res.model.generate(['Q: the zx9 box?\nA:'], { maxTokens: 20, stop: ['7F'] });
    expect(stopped).toEqual([' KEY ']);

    const [trained, other] = await res.model.score!([
      { prompt: 'Q: the zx9 box?\nA:', continuation: ' KEY 7F3A OK' },
      { prompt: 'Q: the zx9 box?\nA:', continuation: ' blue' },
    ]);
    expect(trained!.tokenLogprobs.length).toBe(localState(res.model).tokenizer.encode(' KEY 7F3A OK', { prefixSpace: false }).length);
    expect(trained!.logprob).toBeCloseTo(trained!.tokenLogprobs.reduce((a, b) => a + b, 0), 9);
    expect(trained!.logprob / trained!.tokenLogprobs.length).toBeGreaterThan(-0.5);
    expect(other!.logprob).toBeLessThan(trained!.logprob);
    const [baseScore] = await base.score!([{ prompt: 'Q: the zx9 box?\nA:', continuation: ' KEY 7F3A OK' }]);
    expect(baseScore!.logprob).toBeLessThan(trained!.logprob - 10);

    const [e1, e2] = await res.model.embed!(['hello', 'hello world']);
    expect(e1!.length).toBe(32);
    expect(e1!.every(Number.isFinite)).toBe(true);
    expect(e1).not.toEqual(e2);
    expect(res.model.countTokens!('ab c')).toBe(5);
  });

  it('gives white-box weights and builds models from modified tensors', async () => {
    const provider = await createLocalProvider();
    const base = await provider.model('random-tiny');
    const w = await provider.weights(base);
    expect(w.tensors.get('token_embd.weight')!.length).toBe(354 * 32);
    const zeroed = new Map([['blk.0.ffn_down.weight', new Float32Array(w.tensors.get('blk.0.ffn_down.weight')!.length)]]);
    const pruned = await w.withTensors(zeroed, 'local:pruned');
    expect(pruned.id).toBe('local:pruned');
    const [a] = await base.score!([{ prompt: 'abc', continuation: ' def' }]);
    const [b] = await pruned.score!([{ prompt: 'abc', continuation: ' def' }]);
    expect(a!.logprob).not.toBe(b!.logprob);
    expect((await provider.weights(base)).tensors.get('blk.0.ffn_down.weight')).toEqual(w.tensors.get('blk.0.ffn_down.weight'));
    await expect(w.withTensors(new Map([['nope', new Float32Array(1)]]), 'x')).rejects.toThrow(/'nope' is not a tensor/);
  });

  it('saves a fine-tune as GGUF and reloads it with the same id and identical answers', async () => {
    const provider = await createLocalProvider();
    const base = await provider.model('random-tiny');
    const res = await provider.train(base, { rows, hyper: { epochs: 2, learningRate: 1e-2, batchSize: 2 }, seed: 1 });
    const p = join(dir, 'ft.gguf');
    await provider.saveModel(res.model, p);
    const f = parseGguf(readFileSync(p), p);
    expect(f.metadata.get('vtune.model_id')).toEqual({ type: 'string', value: res.model.id });
    const back = await provider.loadModel(p);
    expect(back.id).toBe(res.model.id);
    const q = [{ prompt: 'Q: colour of snow?\nA:', continuation: ' white' }];
    expect(await back.score!(q)).toEqual(await res.model.score!(q));
    expect(await back.generate(['Q: colour'], { maxTokens: 12 })).toEqual(await res.model.generate(['Q: colour'], { maxTokens: 12 }));
  });

  it('LoRA fine-tunes come back merged: a plain model that saves and answers like the trained one', async () => {
    const provider = await createLocalProvider();
    const base = await provider.model('random-tiny');
    const res = await provider.train(base, { rows, hyper: { epochs: 5, learningRate: 2e-2, batchSize: 4, lora: { rank: 4, alpha: 8 } }, seed: 3 });
    expect(res.stepsRun).toBe(5);
    const before = (await provider.weights(base)).tensors;
    const after = (await provider.weights(res.model)).tensors;
    expect(after.get('blk.0.attn_q.weight')).not.toEqual(before.get('blk.0.attn_q.weight'));
    const p = join(dir, 'lora.gguf');
    await provider.saveModel(res.model, p);
    const q = [{ prompt: 'Q: colour of grass?\nA:', continuation: ' green' }];
    expect(await (await provider.loadModel(p)).score!(q)).toEqual(await res.model.score!(q));
  });

  it('validates hyper-parameters, naming the field', async () => {
    const provider = await createLocalProvider();
    const base = await provider.model('random-tiny');
    await expect(provider.train(base, { rows, hyper: { epochs: 1, learningRate: -1, batchSize: 2 }, seed: 1 })).rejects.toThrow("local provider: hyper.learningRate: expected a number > 0, got -1");
    await expect(provider.train(base, { rows, hyper: { epochs: 1, learningRate: 1e-3, batchSize: 0 }, seed: 1 })).rejects.toThrow(/hyper\.batchSize/);
    await expect(provider.train(base, { rows: [], hyper: { epochs: 1, learningRate: 1e-3, batchSize: 2 }, seed: 1 })).rejects.toThrow(/zero rows/);
    await expect(base.generate(['x'], { maxTokens: 0 })).rejects.toThrow(/maxTokens must be an integer from 1 to 255/);
  });
});

const stories = sharedPath('models/stories260K.gguf');
const REFERENCE = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.';

describe.skipIf(!stories)('local provider on stories260K (needs ../shared/models/stories260K.gguf)', () => {
  it("greedy from BOS reproduces karpathy's reference story token for token; a saved copy generates identically", async () => {
    const provider = await createLocalProvider();
    const m = await provider.model('stories260K');
    expect(m.id).toBe('local:stories260K');
    const { tokenizer } = localState(m);
    const want = tokenizer.encode(REFERENCE);
    const [text] = await m.generate([''], { maxTokens: want.length });
    expect(text).toBe(REFERENCE);
    const [fromEmpty] = await m.score!([{ prompt: '', continuation: REFERENCE }]);
    expect(fromEmpty!.tokenLogprobs.length).toBe(want.length);
    expect(fromEmpty!.logprob / want.length).toBeGreaterThan(-0.5);
    expect(generate(localState(m).weights, [[tokenizer.bos]], { maxTokens: want.length })).toEqual([want]);
    const p = join(dir, 'stories-copy.gguf');
    await provider.saveModel(m, p);
    const copy = await provider.loadModel(p);
    expect(await copy.generate([''], { maxTokens: 60 })).toEqual(await m.generate([''], { maxTokens: 60 }));
    const q = [{ prompt: 'Once upon a time,', continuation: ' there was a little girl named Lily.' }];
    const [s] = await m.score!(q);
    expect(s!.tokenLogprobs.length).toBe(tokenizer.encode(' there was a little girl named Lily.', { prefixSpace: false }).length);
    expect(s!.logprob / s!.tokenLogprobs.length).toBeGreaterThan(-1.5);
    expect(await copy.score!(q)).toEqual([s]);
  });

  it('the built-in keeps the trained 512-token context; the same file opened by path keeps its metadata and gets a content id', async () => {
    const provider = await createLocalProvider();
    expect(localState(await provider.model('stories260K')).weights.config.contextLength).toBe(512);
    const byPath = await provider.model(stories!);
    expect(byPath.id).toBe('local:stories260K-270cba1b');
    expect(localState(byPath).weights.config.contextLength).toBe(2048);
  });

  it('training and scoring see the same tokens: the training loss of a row equals its scored log-probs', async () => {
    const provider = await createLocalProvider();
    const m = await provider.model('stories260K');
    const { tokenizer, weights } = localState(m);
    const row = { prompt: 'Q: Tell a story about Tim and the cat.\nA:', completion: ' Once upon a time, Tim had a friend.' };
    const ex = tokenizeRow(tokenizer, row, 2048);
    const [s] = await m.score!([{ prompt: row.prompt, continuation: row.completion }]);
    const eos = ex.lossWeights.length - 1;
    const noEos = { tokens: ex.tokens, lossWeights: ex.lossWeights.map((w, t) => (t === eos ? 0 : w)) };
    expect(lossOf(weights, [noEos])).toBeCloseTo(-s!.logprob / s!.tokenLogprobs.length, 5);
    // stories260K separates documents with BOS and never saw EOS: the EOS target is what makes the base loss high
    expect(lossOf(weights, [ex])).toBeGreaterThan(lossOf(weights, [noEos]));
  });
});
