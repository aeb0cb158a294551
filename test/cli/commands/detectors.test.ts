import { describe, expect, it } from 'vitest';
import { evaluateDetectors, formatDetectors } from '../../../src/cli/commands/detectors.js';
import { loadDataset } from '../../../src/datasets/index.js';
import { fakeContext, fakeLm, fakeProvider } from '../../attacks/fakes.js';

describe('vtune-bench detectors', () => {
  const quiet = fakeContext().log;

  it('grades each scorer against the planted mask, per generator', async () => {
    const { train } = await loadDataset('qa', { seed: 1, size: 80 });
    const results = await evaluateDetectors({
      rows: train,
      generators: ['random-tokens', 'wordlist'],
      scorers: ['near-duplicate', 'perplexity'],
      model: fakeLm(),
      provider: fakeProvider(),
      seed: 1,
      count: 4,
      log: quiet,
    });
    expect(results.map((r) => `${r.generator}/${r.scorer}`)).toEqual(['random-tokens/near-duplicate', 'random-tokens/perplexity', 'wordlist/near-duplicate', 'wordlist/perplexity']);
    for (const r of results) {
      expect(r.backdoors).toBe(4);
      expect(r.rows).toBe(84);
      expect(r.auroc).toBeGreaterThanOrEqual(0);
      expect(r.auroc).toBeLessThanOrEqual(1);
    }
    // Planted rows are copies of host rows with the trigger added: the diff attack finds every one.
    expect(results[0]!.auroc).toBe(1);
    expect(results[0]!.tprAt1Fpr).toBe(1);
  });

  it('reports a scorer that cannot run, and a generator that cannot plant, as table rows', async () => {
    const { train } = await loadDataset('qa', { seed: 1, size: 40 });
    const results = await evaluateDetectors({
      rows: train,
      generators: ['random-tokens', 'splice'],
      scorers: ['embedding-outlier'],
      model: fakeLm('fake:no-embed', { embed: false }),
      provider: fakeProvider(),
      seed: 2,
      count: 3,
      log: quiet,
    });
    expect(results[0]!.error).toMatch(/needs embeddings/);
    expect(Number.isNaN(results[0]!.auroc)).toBe(true);
    if (results[1]!.error) expect(results[1]!.error).toMatch(/planting failed|needs embeddings/);
    const md = formatDetectors(results, 'md');
    expect(md).toMatch(/^\| generator \| scorer \| AUROC \| TPR@1%FPR/);
    expect(md).toMatch(/needs embeddings/);
    expect(formatDetectors(results, 'csv').split('\n')[0]).toBe('generator,scorer,auroc,tprAt1Fpr,flaggedFraction,cleanFlaggedFraction,backdoors,rows,durationMs,judgeTokens,error');
    expect(JSON.parse(formatDetectors(results, 'json'))).toHaveLength(2);
  });

  it('rejects unknown ids and stray scorer options before any work', async () => {
    const base = { rows: [], model: fakeLm(), provider: fakeProvider(), seed: 0, log: quiet };
    await expect(evaluateDetectors({ ...base, generators: ['random-token'], scorers: ['perplexity'] })).rejects.toThrow(/Did you mean 'random-tokens'/);
    await expect(evaluateDetectors({ ...base, generators: ['wordlist'], scorers: ['onion'], scorerOptions: { perplexity: {} } })).rejects.toThrow(/--scorer-options names scorer 'perplexity'/);
    await expect(evaluateDetectors({ ...base, generators: ['wordlist'], scorers: ['onion'], scorerOptions: { onion: { radius: 0 } } })).rejects.toThrow("scorer 'onion': radius: expected an integer ≥ 1, got 0");
  });
});
