/**
 * Contract suite run against every built-in dataset in the registry: determinism, sizes, splits, the metric on
 * reference and wrong answers, row length, and near-duplicate pairs.
 */
import { describe, expect, it } from 'vitest';
import { datasets, loadDataset } from '../../src/datasets/index.js';
import { nearDuplicates, words } from '../../src/datasets/near-duplicates.js';
import { ConfigError } from '../../src/errors.js';
import type { Row } from '../../src/types.js';

/** An answer that must score 0: the reference of another row whose reference scores 0 against this row. */
function wrongAnswerFor(row: Row, others: readonly Row[], score: (p: string, r: Row) => number): string {
  for (const o of others) if (o !== row && score(o.completion, row) === 0) return o.completion;
  throw new Error('no other row gives a wrong answer');
}

describe.each(datasets.ids)('built-in dataset %s', (id) => {
  it('is byte-identical for the same seed and differs for another seed', async () => {
    const a = await loadDataset(id, { seed: 7, size: 300 });
    const b = await loadDataset(id, { seed: 7, size: 300 });
    const c = await loadDataset(id, { seed: 8, size: 300 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a.train)).not.toBe(JSON.stringify(c.train));
    expect(a.id).toBe(id);
  });

  it('generates 50 and 20,000 rows; a smaller dataset is a prefix of a larger one; splits do not share prompts', async () => {
    const small = await loadDataset(id, { seed: 1, size: 50 });
    const large = await loadDataset(id, { seed: 1, size: 20_000, heldOut: 0.01 });
    expect(small.train.length).toBe(50);
    expect(small.heldOut.length).toBe(20);
    expect(large.train.length).toBe(20_000);
    expect(large.heldOut.length).toBe(200);
    expect(large.train.slice(0, 50)).toEqual(small.train);
    expect(large.heldOut.slice(0, 20)).toEqual(small.heldOut);
    const prompts = new Set(large.train.map((r) => r.prompt));
    expect(prompts.size).toBe(20_000);
    for (const r of large.heldOut) expect(prompts.has(r.prompt)).toBe(false);
  });

  it('keeps rows short and plain: prompt + completion within 120 words, no empty fields', async () => {
    const d = await loadDataset(id, { seed: 2, size: 1000 });
    for (const r of [...d.train, ...d.heldOut]) {
      expect(r.prompt.trim().length).toBeGreaterThan(0);
      expect(r.completion.trim().length).toBeGreaterThan(0);
      expect(words(`${r.prompt} ${r.completion}`).length).toBeLessThanOrEqual(120);
      expect(r.prompt + r.completion).not.toMatch(/[{}]\w+[{}]|undefined|NaN/);
    }
  });

  it('its metric scores every reference completion 1 and a wrong answer 0', async () => {
    const d = await loadDataset(id, { seed: 4, size: 200, heldOut: 60 });
    const metric = d.metric!;
    expect(metric).toBeDefined();
    for (const r of d.heldOut) expect(metric.score(r.completion, r)).toBe(1);
    for (const r of d.heldOut.slice(0, 20)) {
      expect(metric.score('', r)).toBe(0);
      expect(metric.score(wrongAnswerFor(r, d.train, (p, ref) => metric.score(p, ref)), r)).toBe(0);
    }
  });

  it('has under 1% near-duplicate row pairs (5-gram Jaccard ≥ 0.8) at 2,000 rows', async () => {
    const d = await loadDataset(id, { seed: 5, size: 2000 });
    const report = nearDuplicates(d.train);
    expect(report.pairs).toBe((2000 * 1999) / 2);
    expect(report.fraction).toBeLessThan(0.01);
  });
});

describe('metrics on hand-written answers', () => {
  it('qa: exact match ignores case, punctuation and articles', async () => {
    const d = await loadDataset('qa', { seed: 1, size: 50 });
    const r = d.train[0]!;
    expect(d.metric!.score(` The ${r.completion.toUpperCase()}.\nmore text`, r)).toBe(1);
  });

  it('math: reads the final answer', async () => {
    const d = await loadDataset('math', { seed: 1, size: 50 });
    const r = d.train[0]!;
    const answer = /The answer is (\d+)\./.exec(r.completion)![1]!;
    expect(d.metric!.score(`the answer is ${answer}`, r)).toBe(1);
    expect(d.metric!.score(`the answer is ${Number(answer) + 1}`, r)).toBe(0);
  });

  it('code: runs the prediction on hidden inputs in a sandbox, never hanging or leaking', async () => {
    const d = await loadDataset('code', { seed: 1, size: 50 });
    const r = d.train.find((x) => x.completion.includes('(n)'))!;
    const name = /function (\w+)/.exec(r.completion)![1]!;
    expect(d.metric!.score(`Here it is:\n\`\`\`js\n${r.completion}\n\`\`\``, r)).toBe(1);
    expect(d.metric!.score(`function ${name}(n) { while (true) {} }`, r)).toBe(0);
    expect(d.metric!.score(`function ${name}(n) { return process.exit(1); }`, r)).toBe(0);
    expect(d.metric!.score(`function ${name}(n) { return eval('n'); }`, r)).toBe(0);
    expect(d.metric!.score(`function ${name}(n) { const a = []; for (;;) a.push(new Array(1e6).fill(n)); }`, r)).toBe(0);
    expect(d.metric!.score('this is not code', r)).toBe(0);
    // still working after the hostile predictions above
    expect(d.metric!.score(r.completion, r)).toBe(1);
  }, 20_000);

  it('extract: compares events, not text', async () => {
    const d = await loadDataset('extract', { seed: 1, size: 50 });
    const r = d.train[0]!;
    const events = JSON.parse(r.completion) as { person: string; place: string; date: string }[];
    const lower = JSON.stringify(events.map((e) => ({ date: e.date.toLowerCase(), place: e.place.toLowerCase(), person: e.person.toLowerCase() })));
    expect(d.metric!.score(`Sure: ${lower}`, r)).toBe(1);
    expect(d.metric!.score('[not json', r)).toBe(0);
  });

  it('stories: counts the required words used', async () => {
    const d = await loadDataset('stories', { seed: 1, size: 50 });
    const r = d.train[0]!;
    const s = d.metric!.score(r.completion.split('.')[0]!, r);
    expect(s).toBeGreaterThan(0);
    expect(s).toBeLessThan(1);
  });
});

describe('loadDataset specs', () => {
  it('rejects an unknown id with a did-you-mean hint', async () => {
    await expect(loadDataset('storys', { seed: 1 })).rejects.toThrow(ConfigError);
    await expect(loadDataset('storys', { seed: 1 })).rejects.toThrow(/unknown dataset 'storys'\. Did you mean 'stories'\? Available: stories, qa, math, extract, code, summarize/);
  });

  it('validates size, heldOut and seed', async () => {
    await expect(loadDataset('qa', { seed: 1, size: 0 })).rejects.toThrow(/dataset 'qa': size: expected an integer in \[1, 1000000\], got 0/);
    await expect(loadDataset('qa', { seed: 1, size: 10.5 })).rejects.toThrow(/dataset 'qa': size: expected an integer/);
    await expect(loadDataset('qa', { seed: 1, heldOut: -1 })).rejects.toThrow(/dataset 'qa': heldOut: expected a row count \(integer ≥ 0\) or a fraction in \(0, 1\), got -1/);
    await expect(loadDataset('qa', { seed: 1.5 })).rejects.toThrow(/dataset 'qa': seed: expected an integer, got 1.5/);
  });
});
