/**
 * Issue 15: the perplexity scorer handles rows of any length. It cuts what it scores to the model's own
 * context, counted in the model's tokens (not 1,500 characters), and runs without error on every built-in
 * dataset and on the real files in ../shared/data (skipped, with the reason, without ../shared), using the
 * project's real base model local:vtb-base (models/vtb-base.gguf, context 512). A few rows each, the
 * longest ones, plus one synthetic row far longer than any context.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitItem, perplexity } from '../../../attacks/scorers/perplexity.js';
import { textBudget } from '../../../attacks/scorers/lib/fit.js';
import { datasets, loadDataset } from '../../../src/datasets/index.js';
import { readDataFile } from '../../../src/datasets/files.js';
import { createLocalProvider, type LocalProvider } from '../../../src/providers/local.js';
import { sharedPath } from '../../../src/shared-path.js';
import type { Model, Row } from '../../../src/types.js';
import { fakeContext } from '../fakes.js';

const MODES = ['row-segment-max', 'completion'] as const;
const huge: Row = { prompt: `Read this. ${'A long sentence of plain words, again and again. '.repeat(150)}`, completion: `${'The answer goes on and on. '.repeat(300)}` };
const longest = (rows: readonly Row[], n: number) => rows.slice().sort((a, b) => b.prompt.length + b.completion.length - (a.prompt.length + a.completion.length)).slice(0, n);

let provider: LocalProvider;
let base: Model;
beforeAll(async () => {
  provider = await createLocalProvider();
  base = await provider.model('vtb-base');
});
afterAll(async () => {
  await base?.dispose?.();
});

async function scoresEveryRow(rows: readonly Row[]): Promise<void> {
  for (const mode of MODES) {
    const r = await perplexity({ mode }).score(rows, fakeContext(base));
    expect(r.scores).toHaveLength(rows.length);
    expect(r.scores.every(Number.isFinite), `mode ${mode}`).toBe(true);
  }
}

describe('perplexity scorer on rows of any length (local:vtb-base)', () => {
  it('reads the context from the model: what it scores fits the context in tokens, whatever the row length', () => {
    expect(base.contextLength).toBe(512);
    const budget = textBudget(base, undefined, 1500);
    expect(budget).toMatchObject({ unit: 'tokens', afterBos: 511 });
    for (const mode of [...MODES, 'prompt', 'row', 'segment-max'] as const) {
      const item = fitItem(mode, huge, budget);
      const used = 1 + (item.prompt ? base.countTokens!(item.prompt) : 0) + base.countTokens!(item.continuation);
      expect(used, mode).toBeLessThanOrEqual(512);
      // the budget is used, not left mostly empty (1,500 characters would be far fewer or far more tokens)
      expect(used, mode).toBeGreaterThan(480);
    }
    const row = fitItem('row-segment-max', huge, budget);
    expect(huge.completion.startsWith(row.continuation.slice(row.keptPrompt))).toBe(true);
    expect(huge.prompt.endsWith(row.continuation.slice(0, row.keptPrompt))).toBe(true);
  });

  it('a model without a declared context keeps the maxChars budget (1,500 characters by default)', () => {
    const budget = textBudget({ countTokens: (t) => t.length }, undefined, 1500);
    expect(budget).toMatchObject({ unit: 'characters', afterBos: 1500 });
    const item = fitItem('row', huge, budget);
    expect(item.continuation.length).toBe(1500);
  });

  for (const id of datasets.ids) {
    it(`scores the longest rows of built-in '${id}' and a row longer than any context`, async () => {
      const { train } = await loadDataset(id, { seed: 0, size: 12 });
      await scoresEveryRow([...longest(train, 3), huge]);
    }, 120_000);
  }

  const dataDir = sharedPath('data');
  const files = dataDir ? readdirSync(dataDir).filter((f) => f.endsWith('.jsonl')).sort() : [];
  it.skipIf(!dataDir)('finds the real data files in ../shared/data (skipped: no ../shared/data beside the repository)', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const file of files) {
    it(`scores the first and the longest rows of ../shared/data/${file}`, async () => {
      const { rows } = await readDataFile(join(dataDir!, file));
      await scoresEveryRow([rows[0]!, ...longest(rows, 3)]);
    }, 120_000);
  }
});

describe('local provider score: the context check counts BOS', () => {
  it('a continuation of exactly the context length is refused with a message that counts BOS; one token less is scored', async () => {
    const tiny = await provider.model('random-tiny'); // byte-level tokenizer: one token per byte, context 256
    try {
      const [ok] = await tiny.score!([{ prompt: 'x', continuation: 'a'.repeat(255) }]);
      expect(ok!.tokenLogprobs).toHaveLength(255);
      await expect(tiny.score!([{ prompt: 'x', continuation: 'a'.repeat(256) }])).rejects.toThrow(
        'score: continuation #0 is 256 tokens; with BOS that is 257, more than the context (256): at most 255 continuation tokens fit',
      );
    } finally {
      await tiny.dispose?.();
    }
  });
});
