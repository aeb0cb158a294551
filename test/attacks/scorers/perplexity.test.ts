import { describe, expect, it } from 'vitest';
import { maxWindow, perplexity } from '../../../attacks/scorers/perplexity.js';
import { ConfigError } from '../../../src/errors.js';
import { aurocOf, fakeContext, fakeLm, plantedDataset } from '../fakes.js';

describe('perplexity scorer', () => {
  const { rows, mask, signatures } = plantedDataset({ clean: 200, backdoors: 6 });

  it('separates random-token signatures in every mode that sees the completion', async () => {
    for (const mode of ['row', 'completion', 'segment-max'] as const) {
      const r = await perplexity({ mode }).score(rows, fakeContext());
      expect(aurocOf(r.scores, mask)).toBeGreaterThan(0.95);
    }
  });

  it('segment-max flags the backdoors (top 1.5%: 4 of 206 rows) and returns the signature as a completion span', async () => {
    const r = await perplexity({ mode: 'segment-max', window: 3 }).score(rows, fakeContext());
    const flaggedIdx = r.flagged.flatMap((f, i) => (f ? [i] : []));
    expect(flaggedIdx).toHaveLength(Math.ceil(0.015 * rows.length));
    expect(flaggedIdx.every((i) => mask[i])).toBe(true);
    for (const i of flaggedIdx) {
      const span = r.spans![i]![0]!;
      expect(span.field).toBe('completion');
      expect(signatures).toContain(rows[i]!.completion.slice(span.start, span.end));
    }
  });

  it('row-segment-max (default) scores islands anywhere in the row and maps the worst window to its field', async () => {
    const { triggers } = plantedDataset({ clean: 200, backdoors: 6 });
    const r = await perplexity({ window: 3, flag: { kind: 'top-fraction', q: 6 / rows.length } }).score(rows, fakeContext());
    expect(aurocOf(r.scores, mask)).toBe(1);
    const flaggedIdx = r.flagged.flatMap((f, i) => (f ? [i] : []));
    expect(flaggedIdx.every((i) => mask[i])).toBe(true);
    for (const i of flaggedIdx) {
      const text = r.spans![i]!.map((s) => rows[i]![s.field].slice(s.start, s.end).replace(/\.$/, '')).join(' ');
      expect(signatures.some((x) => text.includes(x)) || triggers.some((x) => text.includes(x))).toBe(true);
    }
    // A row whose only island is its trigger gets a prompt span.
    const onlyTrigger = [...rows.filter((_, i) => !mask[i]), { prompt: 'Q: tell me a story about the dog zzq1 xxk2 vvj3.\nA:', completion: ' the dog ran home.' }];
    const t = await perplexity({ window: 3, flag: { kind: 'top-fraction', q: 0.001 } }).score(onlyTrigger, fakeContext());
    const last = t.spans![onlyTrigger.length - 1]!;
    expect(last.map((s) => [s.field, onlyTrigger.at(-1)!.prompt.slice(s.start, s.end)])).toEqual([['prompt', 'zzq1 xxk2 vvj3.']]);
  });

  it('scores are robust z-scores: the clean median is 0', async () => {
    const r = await perplexity({ mode: 'completion' }).score(rows, fakeContext());
    const clean = r.scores.filter((_, i) => !mask[i]).sort((a, b) => a - b);
    expect(Math.abs(clean[clean.length >> 1]!)).toBeLessThan(0.5);
  });

  it('batches model calls', async () => {
    const lm = fakeLm();
    await perplexity({ batchSize: 50 }).score(rows, fakeContext(lm));
    expect(lm.calls.score).toBe(Math.ceil(rows.length / 50));
  });

  it('validates options and needs log-probs', async () => {
    expect(() => perplexity({ mode: 'tokens' })).toThrow(/: mode: /);
    expect(() => perplexity({ window: 0 })).toThrow(ConfigError);
    expect(() => perplexity({ window: 2.5 })).toThrow("scorer 'perplexity': window: expected an integer ≥ 1, got 2.5");
    const noLogprobs = { ...fakeLm(), score: undefined, capabilities: new Set(['generate'] as const) };
    await expect(perplexity().score(rows, fakeContext(noLogprobs))).rejects.toThrow(/needs log-probs/);
  });

  it('maxWindow finds the worst window', () => {
    expect(maxWindow([-1, -1, -9, -9, -1, -1], 2, 1)).toEqual({ surprisal: 9, from: 2, to: 4 });
    expect(maxWindow([-2, -4], 8, 4)).toEqual({ surprisal: 3, from: 0, to: 2 });
  });
});

describe('perplexity scorer on long rows', () => {
  it('keeps whole-row texts within maxChars and still maps spans to the original offsets', async () => {
    const long = { prompt: `${'the dog ran home. '.repeat(40)}tell me about zzq1 xxk2`, completion: ' the cat ran.' };
    const rows = [...Array.from({ length: 30 }, (_, i) => ({ prompt: `${'the dog ran home. '.repeat(40)}tell me about the ${i % 2 ? 'cat' : 'dog'}`, completion: ' the cat ran.' })), long];
    const seen: number[] = [];
    const lm = fakeLm('fake:lm', { logprob: (w, ctx) => (seen.push(ctx.length), /zzq1|xxk2/.test(w) ? -8 : -1) });
    const r = await perplexity({ window: 2, maxChars: 100, flag: { kind: 'top-fraction', q: 0.01 } }).score(rows, fakeContext(lm));
    expect(r.flagged[30]).toBe(true);
    expect(r.spans![30]!.map((s) => long[s.field].slice(s.start, s.end))).toEqual(['zzq1 xxk2']);
    expect(Math.max(...seen)).toBeLessThanOrEqual(100);
  });
});
