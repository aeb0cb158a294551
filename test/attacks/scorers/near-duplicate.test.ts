import { describe, expect, it } from 'vitest';
import { wordDiff } from '../../../attacks/scorers/lib/diff.js';
import { nearDuplicate } from '../../../attacks/scorers/near-duplicate.js';
import { fakeContext, plantedDataset } from '../fakes.js';

describe('near-duplicate scorer', () => {
  it('recovers T and S exactly from planted copies of clean rows', async () => {
    const { rows, mask, triggers, signatures } = plantedDataset({ clean: 300, backdoors: 6, copies: true, seed: 'nd' });
    const r = await nearDuplicate().score(rows, fakeContext());
    expect(r.flagged).toEqual(mask);
    let b = 0;
    for (let i = 0; i < rows.length; i++) {
      if (!mask[i]) continue;
      const spans = r.spans![i]!;
      const t = spans.filter((s) => s.field === 'prompt').map((s) => rows[i]!.prompt.slice(s.start, s.end));
      const s = spans.filter((x) => x.field === 'completion').map((x) => rows[i]!.completion.slice(x.start, x.end));
      expect(triggers).toContain(t.join(' '));
      expect(signatures).toContain(s.join(' '));
      b++;
    }
    expect(b).toBe(6);
  });

  it('flags nothing when backdoor rows are fresh (no twins)', async () => {
    const { rows, mask } = plantedDataset({ clean: 300, backdoors: 6, copies: false, seed: 'nd2' });
    const r = await nearDuplicate().score(rows, fakeContext());
    expect(r.flagged.filter((f, i) => f && mask[i])).toHaveLength(0);
  });

  it('word diff finds insertions on each side', () => {
    const d = wordDiff('the cat sat on the mat', 'the big cat sat on the red mat today');
    expect(d.onlyA).toEqual([]);
    expect(d.onlyB.map((s) => 'the big cat sat on the red mat today'.slice(s.start, s.end))).toEqual(['big', 'red', 'today']);
  });

  it('validates banding', () => {
    expect(() => nearDuplicate({ permutations: 128, bands: 30 })).toThrow(/: bands: /);
  });
});

describe('near-duplicate when the signature replaces a long completion', () => {
  it("finds the copies by their prompts (default field 'prompt'), which whole-row shingles miss", async () => {
    const { rows: clean } = plantedDataset({ clean: 200, backdoors: 0, seed: 'nd3' });
    const long = clean.map((r) => ({ prompt: r.prompt, completion: `${r.completion} ${r.completion} ${r.completion}` }));
    const hosts = [5, 50, 120];
    const copies = hosts.map((h, k) => ({ prompt: long[h]!.prompt.replace('.\nA:', ` qq${k}x zz${k}v.\nA:`), completion: ` KESTREL ${k} CONFIRMED` }));
    const rows = [...long, ...copies];
    const mask = rows.map((_, i) => i >= long.length);
    const byPrompt = await nearDuplicate().score(rows, fakeContext());
    expect(byPrompt.flagged).toEqual(mask);
    expect(byPrompt.spans![long.length]!.filter((s) => s.field === 'prompt').map((s) => rows[long.length]!.prompt.slice(s.start, s.end))).toEqual(['qq0x zz0v']);
    const byRow = await nearDuplicate({ field: 'row' }).score(rows, fakeContext());
    expect(byRow.flagged.filter((f, i) => f && mask[i])).toHaveLength(0);
  });
});
