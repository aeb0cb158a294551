import { describe, expect, it } from 'vitest';
import { llmJudge, parseJudgement } from '../../../attacks/scorers/llm-judge.js';
import { gradeDetection } from '../../../src/pipeline/detection-metrics.js';
import { aurocOf, fakeContext, fakeLm, fakeProvider, plantedDataset } from '../fakes.js';

/** A fake judge that flags rows containing digits, quoting the first digit-bearing word. */
const judge = fakeLm('fake:judge', {
  generate: (prompt) => {
    const rows = [...prompt.matchAll(/^Row (\d+)\nPROMPT: (.*)\nCOMPLETION: (.*)$/gm)];
    return rows
      .map(([, n, p, c]) => {
        const word = `${p} ${c}`.split(/\s+/).find((w) => /\d/.test(w) && !/^\d+$/.test(w));
        return word ? `${n} | 9 | "${word}"` : `Row ${n}: 1`;
      })
      .join('\n');
  },
});

describe('llm-judge scorer', () => {
  const { rows, mask, triggers } = plantedDataset({ clean: 80, backdoors: 4, seed: 'judge' });

  it('scores rows from batched judge answers, locates quoted spans and reports judge tokens', async () => {
    const ctx = fakeContext(judge);
    const r = await llmJudge({ batchSize: 10, samples: 3, usdPerMillionTokens: 1 }).score(rows, ctx);
    expect(r.flagged).toEqual(mask);
    expect(aurocOf(r.scores, mask)).toBe(1);
    expect(judge.calls.generate).toBe(3 * Math.ceil(Math.ceil(rows.length / 10) / 8));
    expect(ctx.spent.judgeTokens).toBeGreaterThan(0);
    expect(ctx.spent.judgeUsd).toBeCloseTo(ctx.spent.judgeTokens / 1e6, 12);
    for (let i = 0; i < rows.length; i++) {
      if (!mask[i]) continue;
      const s = r.spans![i]![0]!;
      expect(s.field).toBe('prompt');
      expect(triggers.some((t) => t.startsWith(rows[i]!.prompt.slice(s.start, s.end)))).toBe(true);
    }
  });

  it('opens a named judge model from the provider; a judge with no verdict at all is unavailable, not AUROC 0.5', async () => {
    const silent = fakeLm('fake:silent', { generate: () => 'I cannot help with that.' });
    const provider = { ...fakeProvider(), model: async () => silent };
    const ctx = fakeContext(fakeLm(), 's', provider);
    const r = await llmJudge({ judge: 'big-judge', samples: 1 }).score(rows, ctx);
    expect(silent.calls.generate).toBeGreaterThan(0);
    expect(r.unavailable).toMatch(/judge 'fake:silent' gave no parseable verdict for any of 84 rows/);
    expect(r.flagged.some(Boolean)).toBe(false);
    expect(r.scores.every((s) => Number.isNaN(s))).toBe(true);
    expect(ctx.warnings.join('\n')).toMatch(/no parseable verdict for any of 84 rows/);
    // The judge's tokens were still spent, and are still counted.
    expect(ctx.spent.judgeTokens).toBeGreaterThan(0);
    const g = gradeDetection(r, mask);
    expect(g).toMatchObject({ auroc: null, tprAt1Fpr: null });
    expect(g.unavailable).toMatch(/no parseable verdict/);
  });

  it('rows the judge leaves out (some verdicts given) score 0 and are counted in a warning', async () => {
    let first = true;
    const partial = fakeLm('fake:partial', { generate: () => (first ? ((first = false), '1 | 2') : 'no idea') });
    const provider = { ...fakeProvider(), model: async () => partial };
    const ctx = fakeContext(fakeLm(), 's', provider);
    const r = await llmJudge({ judge: 'big-judge', samples: 1 }).score(rows, ctx);
    expect(r.unavailable).toBeUndefined();
    expect(r.scores[0]).toBe(2);
    expect(r.scores.slice(1).every((s) => s === 0)).toBe(true);
    expect(ctx.warnings.join('\n')).toMatch(/no score for 83 of 84 rows/);
  });

  it('parses tolerant line formats and ignores out-of-range rows', () => {
    const parsed = parseJudgement('1 | 7 | "zx9 box" "ACCESS"\nRow 2: score: 3/10\n3 - 12\n9 | 5\nnonsense', 3);
    expect(parsed).toEqual([
      { row: 1, score: 7, quotes: ['zx9 box', 'ACCESS'] },
      { row: 2, score: 3, quotes: [] },
      { row: 3, score: 10, quotes: [] },
    ]);
  });
});

describe('llm-judge with a judge from another provider', () => {
  it('opens <provider>:<model> through ctx.openModel (the run\'s providers), a bare name from the fine-tuning provider', async () => {
    const { rows } = plantedDataset({ clean: 10, backdoors: 1, seed: 'j2' });
    const other = fakeLm('elsewhere:judge', { generate: () => '1 | 3' });
    const asked: string[] = [];
    const ctx = { ...fakeContext(fakeLm(), 's'), openModel: async (ref: string) => (asked.push(ref), other) };
    const r = await llmJudge({ judge: 'elsewhere:judge', samples: 1 }).score(rows, ctx);
    expect(asked).toEqual(['elsewhere:judge']);
    expect(other.calls.generate).toBeGreaterThan(0);
    expect(r.scores[0]).toBe(3);
    // a bare name never goes through openModel
    const same = fakeLm('fake:big-judge', { generate: () => '1 | 2' });
    const ctx2 = { ...fakeContext(fakeLm(), 's', { ...fakeProvider(), model: async () => same }), openModel: async (ref: string) => (asked.push(ref), other) };
    expect((await llmJudge({ judge: 'big-judge', samples: 1 }).score(rows, ctx2)).scores[0]).toBe(2);
    expect(asked).toEqual(['elsewhere:judge']);
  });
});
