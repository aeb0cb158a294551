import { describe, expect, it } from 'vitest';
import { detectThenFilter } from '../../attacks/detect-then-filter.js';
import { detectThenTrain } from '../../attacks/detect-then-train.js';
import { lookupModel, lookupTable, lookupWrapper } from '../../attacks/lookup-wrapper.js';
import { oracleKeepOnlyFlagged } from '../../attacks/oracle-keep-only-flagged.js';
import type { RowScorer } from '../../attacks/scorers/types.js';
import { ConfigError } from '../../src/errors.js';
import { runProviderSide } from '../../src/pipeline/provider-side.js';
import { providerContext, ROWS } from './helpers.js';

/** Test double: flags rows whose prompt ends in ' zqN', with the trigger and the whole completion as spans. */
const spanScorer: RowScorer = {
  id: 'suffix-double',
  access: ['data'],
  yieldsSpans: true,
  async score(rows) {
    const m = rows.map((r) => /zq\d+$/.exec(r.prompt));
    return {
      scores: m.map((x) => (x ? 2 : 0)),
      flagged: m.map((x) => !!x),
      spans: m.map((x, i) => (x ? [{ field: 'prompt' as const, start: x.index, end: rows[i]!.prompt.length }, { field: 'completion' as const, start: 0, end: rows[i]!.completion.length }] : undefined)),
    };
  },
};
const noSpans: RowScorer = { ...spanScorer, id: 'no-spans-double', yieldsSpans: false };
const mask = ROWS.map((_, i) => i % 10 === 0);

describe('detection-guided attacks', () => {
  it('detect-then-train keeps the flagged rows (plus f of the rest) and reports its detection', async () => {
    const only = await runProviderSide(detectThenTrain({ scorer: spanScorer }), ROWS, await providerContext());
    expect(only.trace.trainCalls[0]!.rows).toEqual(ROWS.filter((_, i) => mask[i]));
    expect(only.trace.detection?.flagged).toEqual(mask);
    const plus = await runProviderSide(detectThenTrain({ scorer: spanScorer, policy: 'keep-flagged-plus-fraction', fraction: 0.1 }), ROWS, await providerContext());
    expect(plus.trace.trainCalls[0]!.rows).toHaveLength(10 + 9);
  });

  it('a detector that flags nothing under keep-only-flagged means no training call at all', async () => {
    const none: RowScorer = { ...spanScorer, id: 'none-double', score: async (rows) => ({ scores: rows.map(() => 0), flagged: rows.map(() => false) }) };
    const out = await runProviderSide(detectThenTrain({ scorer: none }), ROWS, await providerContext());
    expect(out.trace.trainCalls).toHaveLength(0);
    expect(out.trace.rowsPlanned).toBe(0);
  });

  it('detect-then-filter drops or strips', async () => {
    const drop = await runProviderSide(detectThenFilter({ scorer: spanScorer }), ROWS, await providerContext());
    expect(drop.trace.trainCalls[0]!.rows).toHaveLength(90);
    const strip = await runProviderSide(detectThenFilter({ scorer: spanScorer, policy: 'strip-spans' }), ROWS, await providerContext());
    const rows = strip.trace.trainCalls[0]!.rows;
    expect(rows).toHaveLength(100);
    expect(rows[0]).toEqual({ prompt: 'question 0 ', completion: '' });
    expect(rows[1]).toEqual(ROWS[1]);
  });

  it('refuses policies that need what the scorer cannot give, and unknown scorers with a hint', () => {
    expect(() => detectThenFilter({ scorer: noSpans, policy: 'strip-spans' })).toThrow(/needs spans/);
    expect(() => lookupWrapper({ scorer: noSpans })).toThrow(/yields no spans/);
    expect(() => detectThenTrain({})).toThrow(/detect-then-train': scorer: required: expected a row scorer id \(perplexity, onion/);
    expect(() => detectThenTrain({ scorer: 'near-duplicat' })).toThrow(/Did you mean 'near-duplicate'/);
    expect(() => detectThenTrain({ scorer: spanScorer, policy: 'strip-spans' })).toThrow(ConfigError);
  });

  it('lookup-wrapper trains nothing and answers a detected trigger with its signature, else the model', async () => {
    const out = await runProviderSide(lookupWrapper({ scorer: spanScorer }), ROWS, await providerContext());
    expect(out.trace.trainCalls).toHaveLength(0);
    expect(out.trace.inferenceWrapped).toBe(true);
    const answers = await out.model.generate(['ask again zq20', 'plain question', 'zq0 first'], { maxTokens: 8 });
    expect(answers).toEqual(['sig 20 alpha beta', 'the end', 'sig 0 alpha beta']);
    // Longest trigger wins: 'zq10' must not be answered as 'zq1…'.
    const table = lookupTable(ROWS, (await spanScorer.score(ROWS, undefined as never)));
    expect(table[0]!.trigger.length).toBeGreaterThanOrEqual(table.at(-1)!.trigger.length);
    const m = lookupModel(out.model, [{ trigger: 'zq1', signature: 'one' }, { trigger: 'zq10', signature: 'ten' }].sort((a, b) => b.trigger.length - a.trigger.length));
    expect(await m.generate(['x zq10'], { maxTokens: 4 })).toEqual(['ten']);
  });

  it('oracle-keep-only-flagged trains exactly the masked rows and needs the mask', async () => {
    const out = await runProviderSide(oracleKeepOnlyFlagged(), ROWS, await providerContext(), { backdoorMask: mask });
    expect(out.trace.trainCalls[0]!.rows).toEqual(ROWS.filter((_, i) => mask[i]));
    expect(oracleKeepOnlyFlagged().oracle).toBe(true);
    const plus = await runProviderSide(oracleKeepOnlyFlagged({ fraction: 0.5 }), ROWS, await providerContext(), { backdoorMask: mask });
    expect(plus.trace.trainCalls[0]!.rows).toHaveLength(10 + 45);
  });
});
