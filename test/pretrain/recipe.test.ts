import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelBytes } from '../../src/engine/load.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_RECIPE, resolveRecipe, runPretrain } from '../../src/pretrain/index.js';
import { distinct2, longestRun, randomTokenText } from '../../src/pretrain/quality.js';
import { VTB_BASE_FILE, VTB_BASE_SHA256 } from '../../src/providers/local.js';
import { Rng } from '../../src/rng.js';
import { repoRoot } from '../../src/shared-path.js';

const TINY = resolveRecipe({ rowsPerDataset: 60, vocabSize: 320, dim: 16, nLayers: 1, nHeads: 2, nKvHeads: 2, hiddenDim: 32, seqLen: 32, batchSize: 4, steps: 6, warmupSteps: 2, contextLength: 64 });

describe('pretrain recipe', () => {
  it('rejects unknown and bad options, naming them', () => {
    expect(() => resolveRecipe({ stepz: 3 } as never)).toThrow(/unknown recipe option 'stepz'/);
    expect(() => resolveRecipe({ steps: 0 })).toThrow(ConfigError);
    expect(() => resolveRecipe({ seqLen: 1024 })).toThrow(/seqLen/);
    expect(() => resolveRecipe({ dim: 100, nHeads: 3 })).toThrow(/nHeads/);
    expect(() => resolveRecipe({ warmupSteps: 5000 })).toThrow(/warmupSteps/);
  });

  it('a resumed run reproduces the uninterrupted run bit for bit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtb-pretrain-'));
    try {
      const straight = await runPretrain(TINY, {});
      const ckpt = join(dir, 'run.ckpt');
      const first = await runPretrain(TINY, { checkpointPath: ckpt, checkpointEvery: 2, stopAfter: 3 });
      expect(first.stepsDone).toBe(3);
      const second = await runPretrain(TINY, { checkpointPath: ckpt, checkpointEvery: 2 });
      expect(second.resumedFrom).toBe(3);
      expect([...first.losses.values(), ...second.losses.values()]).toEqual([...straight.losses.values()]);
      expect(second.sha256).toBe(straight.sha256);
      // training did something: the loss fell and the schedule reached its end
      const l = [...straight.losses.values()];
      expect(l[l.length - 1]!).toBeLessThan(l[0]!);
      // a checkpoint of another recipe is refused
      await expect(runPretrain({ ...TINY, seed: 2 }, { checkpointPath: ckpt })).rejects.toThrow(/different recipe/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  const committed = join(repoRoot, VTB_BASE_FILE);
  const lossFile = join(repoRoot, 'src/pretrain/vtb-base.first-losses.json');
  it.skipIf(!existsSync(committed) || !existsSync(lossFile))('the committed recipe reproduces its first steps and tokenizer', async () => {
    const ref = JSON.parse(readFileSync(lossFile, 'utf8')) as { recipe: unknown; losses: { step: number; loss: number }[] };
    expect(ref.recipe).toEqual({ ...DEFAULT_RECIPE });
    const n = 3;
    const out = await runPretrain(DEFAULT_RECIPE, { stopAfter: n });
    for (const { step, loss } of ref.losses.slice(0, n)) expect(Math.abs(out.losses.get(step)! - loss)).toBeLessThan(1e-6);
    const bytes = readFileSync(committed);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(VTB_BASE_SHA256);
    const model = loadModelBytes(bytes, committed);
    expect(model.tokenizer.data.tokens).toEqual(out.tokenizer.data.tokens);
    expect(model.config.dim).toBe(DEFAULT_RECIPE.dim);
  }, 300_000);
});

describe('base-model quality measures', () => {
  it('distinct-2 and the longest run', () => {
    expect(distinct2([[1, 2, 3, 4]])).toBe(1);
    expect(distinct2([[5, 5, 5, 5, 5]])).toBe(0.25);
    expect(longestRun([[1, 2, 2, 2, 3], [4, 4]])).toBe(3);
  });
  it('random-token strings re-encode to normal tokens', async () => {
    const out = await runPretrain({ ...TINY, steps: 1 }, {});
    const text = randomTokenText(out.tokenizer, 20, new Rng('t'));
    expect(text.length).toBeGreaterThan(10);
    expect(randomTokenText(out.tokenizer, 20, new Rng('t'))).toBe(text);
  }, 60_000);
});
