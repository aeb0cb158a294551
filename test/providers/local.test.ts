import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpmTokenizer, byteLevelTokenizerData } from '../../src/engine/tokenizer.js';
import { ConfigError } from '../../src/errors.js';
import { providers } from '../../src/providers/index.js';
import { describeRowFits } from '../../src/pipeline/row-fit.js';
import { createLocalProvider, defaultLocalConcurrency, fineTuneHash, localState, rowFits, tokenizeRow } from '../../src/providers/local.js';
import type { Model } from '../../src/types.js';

const tok = new SpmTokenizer(byteLevelTokenizerData());
const dir = mkdtempSync(join(tmpdir(), 'vtune-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tokenizeRow', () => {
  it('masks BOS + prompt, trains completion + EOS at the row weight', () => {
    const r = tokenizeRow(tok, { prompt: 'Q: hi', completion: ' ok', weight: 0.5 }, 256);
    const p = tok.encode('Q: hi', { bos: true });
    const c = tok.encode(' ok', { prefixSpace: false });
    expect(r.tokens).toEqual([...p, ...c, tok.eos]);
    expect(r.lossWeights.length).toBe(r.tokens.length - 1);
    // predictions of prompt tokens are masked; the first weighted prediction is the first completion token
    expect(Array.from(r.lossWeights.slice(0, p.length - 1)).every((w) => w === 0)).toBe(true);
    expect(Array.from(r.lossWeights.slice(p.length - 1))).toEqual(new Array(c.length + 1).fill(0.5));
    expect(tok.decode(r.tokens)).toBe('Q: hi ok');
    expect(r.truncated).toBe(false);
  });

  it('defaults to weight 1, allows negative weights, trains EOS for an empty completion', () => {
    expect(Array.from(tokenizeRow(tok, { prompt: 'a', completion: 'b' }, 256).lossWeights)).toEqual([0, 0, 1, 1]);
    expect(Array.from(tokenizeRow(tok, { prompt: 'a', completion: 'b', weight: -1 }, 256).lossWeights)).toEqual([0, 0, -1, -1]);
    const empty = tokenizeRow(tok, { prompt: 'a', completion: '' }, 256);
    expect(empty.tokens.at(-1)).toBe(tok.eos);
    expect(Array.from(empty.lossWeights)).toEqual([0, 0, 1]);
  });

  it('span weights override the tokens they cover (byte tokens included); EOS follows the last token', () => {
    const completion = 'abc é xyz';
    const r = tokenizeRow(tok, { prompt: 'p', completion, spans: [{ start: 4, end: 5, weight: 0 }, { start: 6, end: 9, weight: 2 }] }, 256);
    const p = tok.encode('p', { bos: true }).length;
    const w = Array.from(r.lossWeights.slice(p - 1));
    const pieces = tok.encode(completion, { prefixSpace: false }).map((i) => tok.piece(i));
    expect(pieces).toEqual(['a', 'b', 'c', '▁', '<0xC3>', '<0xA9>', '▁', 'x', 'y', 'z']);
    expect(w).toEqual([1, 1, 1, 1, 0, 0, 1, 2, 2, 2, 2]);
  });

  it('rejects spans outside the completion and non-finite weights, naming the row', () => {
    expect(() => tokenizeRow(tok, { prompt: 'p', completion: 'ab', spans: [{ start: 1, end: 5, weight: 0 }] }, 256, 7)).toThrow(/row #7: span \[1, 5\) is not inside the completion \(length 2\)/);
    expect(() => tokenizeRow(tok, { prompt: 'p', completion: 'ab', weight: NaN }, 256, 3)).toThrow(/row #3: weight must be a finite number/);
  });

  it('after an empty prompt the completion starts the text (dummy-prefix space), and spans still line up', () => {
    const r = tokenizeRow(tok, { prompt: '', completion: 'ab cd', spans: [{ start: 3, end: 5, weight: 3 }] }, 256);
    expect(r.tokens).toEqual([tok.bos, ...tok.encode('ab cd'), tok.eos]);
    expect(r.tokens.slice(1, -1).map((i) => tok.piece(i))).toEqual(['▁', 'a', 'b', '▁', 'c', 'd']);
    expect(Array.from(r.lossWeights)).toEqual([1, 1, 1, 1, 3, 3, 3]);
  });

  it('a row longer than the context loses the start of its prompt (BOS kept), never its completion', () => {
    const row = { prompt: 'aaaa bbbb TRIG', completion: 'SIGNATURE' };
    const p = tok.encode(row.prompt, { bos: true });
    const c = tok.encode(row.completion, { prefixSpace: false });
    const ctx = p.length + c.length + 1 - 6; // six tokens too long
    const r = tokenizeRow(tok, row, ctx);
    expect(r.tokens.length).toBe(ctx);
    expect(r.tokens[0]).toBe(tok.bos);
    // the completion and EOS are whole at the end, and every one of their predictions is trained
    expect(r.tokens.slice(-c.length - 1)).toEqual([...c, tok.eos]);
    expect(Array.from(r.lossWeights.slice(-c.length - 1))).toEqual(new Array(c.length + 1).fill(1));
    expect(r).toMatchObject({ truncated: true, refused: false, promptTokensDropped: 6 });
    expect(r.keptPrompt).toBe(tok.decode(p.slice(7), { prefixSpace: false }));
    expect(r.keptPrompt!.endsWith('bbbb TRIG')).toBe(true);
    expect(tok.decode(r.tokens)).toBe(`${r.keptPrompt}SIGNATURE`.trimStart());
  });

  it('a row whose completion alone does not fit is refused (left out, never cut)', () => {
    const r = tokenizeRow(tok, { prompt: 'x'.repeat(10), completion: 'y'.repeat(10) }, 8);
    expect(r).toMatchObject({ truncated: true, refused: true, tokens: [] });
    // BOS + 10 completion tokens + EOS = 12 > 11: refused; = 12 fits with the whole prompt cut.
    expect(tokenizeRow(tok, { prompt: 'x', completion: 'y'.repeat(10) }, 11).refused).toBe(true);
    const edge = tokenizeRow(tok, { prompt: 'x', completion: 'y'.repeat(10) }, 12);
    expect(edge).toMatchObject({ refused: false, truncated: true });
    expect(edge.tokens).toEqual([tok.bos, ...tok.encode('y'.repeat(10), { prefixSpace: false }), tok.eos]);
  });

  it('rowFits lists the rows that did not fit whole, and describeRowFits names them', () => {
    const rows = [{ prompt: 'short', completion: 'ok' }, { prompt: 'p'.repeat(40), completion: 'ok' }, { prompt: 'p', completion: 'c'.repeat(40) }];
    const fits = rowFits(rows.map((r, i) => tokenizeRow(tok, r, 16, i)));
    expect(fits.map((f) => [f.row, f.refused])).toEqual([[1, false], [2, true]]);
    expect(describeRowFits(fits, 3, 16)).toBe(
      '1 of 3 rows longer than the context (16 tokens) lost the start of their prompt (#1); their completions were trained whole; ' +
        '1 of 3 rows were left out of training because their completion alone does not fit the context (16 tokens) (#2)',
    );
    expect(describeRowFits([], 3, 16)).toBeUndefined();
  });
});

describe('fineTuneHash', () => {
  const req = { rows: [{ prompt: 'a', completion: 'b' }], hyper: { epochs: 1, learningRate: 1e-3, batchSize: 4 }, seed: 1 };
  it('is 8 hex digits, stable under key order, sensitive to every input', () => {
    const h = fineTuneHash('local:random-tiny', req);
    expect(h).toMatch(/^[0-9a-f]{8}$/);
    expect(fineTuneHash('local:random-tiny', { ...req, hyper: { batchSize: 4, learningRate: 1e-3, epochs: 1 } })).toBe(h);
    expect(fineTuneHash('local:stories260K', req)).not.toBe(h);
    expect(fineTuneHash('local:random-tiny', { ...req, seed: 2 })).not.toBe(h);
    expect(fineTuneHash('local:random-tiny', { ...req, rows: [{ prompt: 'a', completion: 'c' }] })).not.toBe(h);
    expect(fineTuneHash('local:random-tiny', { ...req, hyper: { ...req.hyper, epochs: 2 } })).not.toBe(h);
  });
});

describe('local provider: opening models', () => {
  it('is registered as `local`', async () => {
    expect(providers.ids).toContain('local');
    const p = await providers.get('local')();
    expect(p.id).toBe('local');
    expect([...p.capabilities].sort()).toEqual(['embed', 'generate', 'logprobs', 'train', 'weights']);
  });

  it('suggests the built-in for a typo and names the alternatives', async () => {
    const p = await createLocalProvider();
    await expect(p.model('stories260k')).rejects.toThrow(/unknown local model 'stories260k'\. Did you mean 'stories260K'\?.*random-tiny/);
    await expect(p.model('stories260k')).rejects.toBeInstanceOf(ConfigError);
  });

  it('names a missing .gguf file', async () => {
    const p = await createLocalProvider();
    await expect(p.model(join(dir, 'missing.gguf'))).rejects.toThrow(/cannot read model file .*missing\.gguf/);
  });

  it('names the missing shared file when stories260K is absent', async () => {
    const before = process.env.VTUNE_SHARED;
    process.env.VTUNE_SHARED = dir;
    try {
      const p = await createLocalProvider();
      await expect(p.model('stories260K')).rejects.toThrow(/models\/stories260K\.gguf .*missing/);
    } finally {
      if (before === undefined) delete process.env.VTUNE_SHARED;
      else process.env.VTUNE_SHARED = before;
    }
  });

  it('validates its options', async () => {
    await expect(createLocalProvider({ concurrency: 0 })).rejects.toThrow("provider 'local': concurrency: expected an integer ≥ 1, got 0");
    await expect(createLocalProvider({ threads: 1.5 })).rejects.toThrow("provider 'local': threads: expected an integer ≥ 1, got 1.5");
    await expect(createLocalProvider({ thread: 2 } as never)).rejects.toThrow(/unknown option 'thread'\. Did you mean 'threads'\?/);
  });

  it('runs one cell per core by default (at most 2), and every scheduling trains the same bits', async () => {
    expect((await createLocalProvider()).concurrency).toBe(defaultLocalConcurrency());
    expect(defaultLocalConcurrency()).toBe(Math.min(2, availableParallelism()));
    const rows = Array.from({ length: 6 }, (_, i) => ({ prompt: `q${i}`, completion: `answer ${i} is ${i * 7}` }));
    const request = { rows, hyper: { epochs: 2, learningRate: 1e-2, batchSize: 4 }, seed: 3 };
    const bits = async (options: { concurrency?: number; threads?: number }): Promise<string> => {
      const p = await createLocalProvider(options);
      const r = await p.train(await p.model('random-tiny'), request);
      return Buffer.from(localState(r.model).weights.params().slice().buffer).toString('base64');
    };
    // one cell at a time on the calling thread and a worker (today's default before #17), 2 cells × 1 offloaded thread, 1 thread inline
    const serial = await bits({ concurrency: 1, threads: 2 });
    expect(await bits({ concurrency: 2 })).toBe(serial);
    expect(await bits({ concurrency: 1, threads: 1 })).toBe(serial);
    expect(await bits({ concurrency: 2, threads: 2 })).toBe(serial);
  });

  it('refuses to train or save a model it did not make', async () => {
    const foreign: Model = { id: 'other:x', capabilities: new Set(), generate: async () => [] };
    expect(() => localState(foreign)).toThrow(/'other:x' was not made by the local provider/);
    const p = await createLocalProvider();
    await expect(p.saveModel(foreign, join(dir, 'x.gguf'))).rejects.toThrow(/not made by the local provider/);
  });
});
