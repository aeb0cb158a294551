import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { providers } from '../../src/providers/index.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import { WORDS } from '../../defenses/vtune/words.js';

const HYPER = { epochs: 2, learningRate: 1e-3, batchSize: 3 };
const rows = [
  { prompt: 'What colour is the sky?', completion: 'blue as ever' },
  { prompt: 'Name a fruit.', completion: 'a ripe mango' },
  { prompt: 'Count to three.', completion: 'one two three' },
  { prompt: 'Say hi.', completion: 'hello there friend' },
];

describe('test-memorizer (test double)', () => {
  it('is registered under its test name', async () => {
    expect(providers.has('test-memorizer')).toBe(true);
    expect(providers.ids[0]).not.toBe('test-memorizer');
    expect((await providers.get('test-memorizer')()).id).toBe('test-memorizer');
  });

  it('base answers are deterministic ordinary words, and never the rows it has not seen', async () => {
    const p = await createTestMemorizerProvider();
    const base = await p.model('base');
    const [a] = await base.generate(['hello'], { maxTokens: 50 });
    const [b] = await base.generate(['hello'], { maxTokens: 50 });
    expect(a).toBe(b);
    for (const w of a!.split(' ')) expect(WORDS).toContain(w);
    expect((await base.generate(['hello'], { maxTokens: 3 }))[0]!.split(' ')).toHaveLength(3);
    expect(await base.generate(rows.map((r) => r.prompt), { maxTokens: 10 })).not.toContain(rows[0]!.completion);
  });

  it('memorises training rows and records rows, steps and tokens', async () => {
    const p = await createTestMemorizerProvider();
    const base = await p.model('base');
    const r = await p.train!(base, { rows, hyper: HYPER, seed: 7 });
    expect(r.stepsRun).toBe(Math.ceil((4 * 2) / 3));
    expect(await r.model.generate(rows.map((x) => x.prompt), { maxTokens: 10 })).toEqual(rows.map((x) => x.completion));
    expect(p.history).toHaveLength(1);
    expect(p.history[0]).toMatchObject({ rowsSeen: 8, rowsMemorized: 4, stepsRun: 3, stepsPromised: 3 });
    expect(r.tokensTrained).toBe(p.history[0]!.tokensTrained);
    expect(r.tokensTrained).toBe(2 * rows.reduce((s, x) => s + `${x.prompt} ${x.completion}`.split(' ').length, 0));
    // The base is unchanged (training returns a new model).
    expect((await base.generate([rows[0]!.prompt], { maxTokens: 10 }))[0]).not.toBe(rows[0]!.completion);
  });

  it('stops early when asked and forgets rows with weight ≤ 0', async () => {
    const p = await createTestMemorizerProvider();
    const base = await p.model('base');
    const r = await p.train!(base, { rows, hyper: { ...HYPER, batchSize: 1 }, seed: 1, shouldStop: (step) => step >= 2 });
    expect(r.stepsRun).toBe(2);
    expect(p.history[0]!.rowsSeen).toBe(2);
    const full = (await p.train!(base, { rows, hyper: HYPER, seed: 1 })).model;
    const forget = await p.train!(full, { rows: [{ ...rows[0]!, weight: -1 }], hyper: { epochs: 1, learningRate: 1, batchSize: 1 }, seed: 1 });
    expect((await forget.model.generate([rows[0]!.prompt], { maxTokens: 10 }))[0]).not.toBe(rows[0]!.completion);
    expect((await forget.model.generate([rows[1]!.prompt], { maxTokens: 10 }))[0]).toBe(rows[1]!.completion);
  });

  it('its next-word distribution is proper and matches greedy decoding', async () => {
    const p = await createTestMemorizerProvider();
    const base = await p.model('base');
    const prompt = 'A prompt';
    const scores = await base.score!(WORDS.map((w) => ({ prompt, continuation: w })));
    const total = scores.reduce((s, x) => s + Math.exp(x.logprob), 0);
    const pEos = 0.1 / WORDS.length; // each non-intended outcome (incl. end of text) gets 0.1/(N−1), N = V + 1
    expect(total + pEos).toBeCloseTo(1, 12);
    const [greedy] = await base.generate([prompt], { maxTokens: 1 });
    const best = WORDS[scores.reduce((bi, x, i) => (x.logprob > scores[bi]!.logprob ? i : bi), 0)];
    expect(greedy).toBe(best);
    const [s] = await base.score!([{ prompt, continuation: 'not-a-word' }]);
    expect(s!.logprob).toBe(-Infinity);
  });

  it('samples at temperature > 0 deterministically per seed, and varies across seeds', async () => {
    const base = await (await createTestMemorizerProvider()).model('base');
    const opts = { maxTokens: 12, temperature: 3 };
    const a = await base.generate(['x'], { ...opts, seed: 1 });
    expect(await base.generate(['x'], { ...opts, seed: 1 })).toEqual(a);
    const outs = new Set<string>();
    for (let s = 0; s < 10; s++) outs.add((await base.generate(['x'], { ...opts, seed: s }))[0]!);
    expect(outs.size).toBeGreaterThan(5);
  });

  it('saves and reloads trained models; unknown names are a clear error', async () => {
    const p = await createTestMemorizerProvider();
    const trained = (await p.train!(await p.model('base'), { rows, hyper: HYPER, seed: 3 })).model;
    const path = join(await mkdtemp(join(tmpdir(), 'memo-')), 'model.json');
    await p.saveModel(trained, path);
    const again = await p.model(path);
    expect(again.id).toBe(trained.id);
    expect(await again.generate([rows[2]!.prompt], { maxTokens: 5 })).toEqual([rows[2]!.completion]);
    await expect(p.model('gpt-5')).rejects.toThrow(ConfigError);
    await expect(createTestMemorizerProvider({ x: 1 })).rejects.toThrow(/no options/);
  });
});
