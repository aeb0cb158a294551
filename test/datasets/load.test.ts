import { describe, expect, it } from 'vitest';
import { datasetStats } from '../../src/cli/commands/datasets.js';
import { loadDataset } from '../../src/datasets/index.js';
import { nearDuplicates } from '../../src/datasets/near-duplicates.js';
import { ConfigError, InputError } from '../../src/errors.js';
import { sharedPath } from '../../src/shared-path.js';

const files = [
  { file: 'data/self-instruct-seed-tasks.jsonl', count: 175 },
  { file: 'data/common-gen.jsonl', count: 200 },
  { file: 'data/adversarial-qa.jsonl', count: 200 },
] as const;

describe('loadDataset on data files', () => {
  for (const { file, count } of files) {
    const p = sharedPath(file);
    it.skipIf(!p)(`${file}: ${count} rows split into train and held-out${p ? '' : ' — skipped: ../shared absent'}`, async () => {
      const a = await loadDataset(`file:${p}`, { seed: 3 });
      expect(a.train.length + a.heldOut.length).toBe(count);
      expect(a.heldOut.length).toBe(Math.round(count * 0.1));
      const b = await loadDataset(p!, { seed: 3 });
      expect([b.train, b.heldOut]).toEqual([a.train, a.heldOut]);
      const c = await loadDataset(p!, { seed: 4 });
      expect(c.heldOut).not.toEqual(a.heldOut);
      const small = await loadDataset(p!, { seed: 3, size: 100, heldOut: 10 });
      expect([small.train.length, small.heldOut.length]).toEqual([100, 10]);
      expect(a.metric?.score(a.heldOut[0]!.completion, a.heldOut[0]!)).toBe(1);
      await expect(loadDataset(p!, { seed: 3, size: count })).rejects.toThrow(ConfigError);
    });
  }

  it('passes file errors through as InputError naming the file', async () => {
    await expect(loadDataset('file:/nonexistent/x.jsonl', { seed: 1 })).rejects.toThrow(InputError);
    await expect(loadDataset('file:', { seed: 1 })).rejects.toThrow(/names no file/);
  });
});

describe('datasets command statistics', () => {
  it('reports rows, words per row, near-duplicates and a sample', async () => {
    const d = await loadDataset('math', { seed: 1, size: 300, heldOut: 30 });
    const s = datasetStats(d);
    expect([s.trainRows, s.heldOutRows, s.metric]).toEqual([300, 30, 'final-answer']);
    expect(s.wordsPerRow.mean).toBeGreaterThan(10);
    expect(s.wordsPerRow.max).toBeGreaterThanOrEqual(s.wordsPerRow.median);
    expect(s.exactDuplicatePrompts).toBe(0);
    expect(s.sample).toEqual(d.train[0]);
  });
});

describe('near-duplicate scan', () => {
  it('finds exactly the pairs a brute-force scan finds', () => {
    const base = 'the little cat sat on the warm red mat and looked at the big blue sky all day long';
    const rows = [
      { prompt: base, completion: 'yes' },
      { prompt: base, completion: 'yes' }, // identical: J = 1
      { prompt: base, completion: 'no' }, // the last word changed: one 5-gram of 16 differs
      { prompt: base.replace('warm', 'cold'), completion: 'yes' }, // one word in the middle: J < 0.8
      { prompt: 'a completely different sentence about dogs and parks and balls', completion: 'no' },
    ];
    const r = nearDuplicates(rows);
    expect(r.pairs).toBe(10);
    // brute force
    const grams = rows.map((x) => {
      const w = `${x.prompt} ${x.completion}`.split(' ');
      return new Set(w.slice(0, -4).map((_, i) => w.slice(i, i + 5).join(' ')));
    });
    let brute = 0;
    for (let i = 0; i < rows.length; i++) {
      for (let j = i + 1; j < rows.length; j++) {
        const inter = [...grams[i]!].filter((g) => grams[j]!.has(g)).length;
        if (inter / (grams[i]!.size + grams[j]!.size - inter) >= 0.8) brute++;
      }
    }
    expect(brute).toBe(3);
    expect(r.nearDuplicatePairs).toBe(brute);
    expect(r.rowsInvolved).toBe(3);
  });
});
