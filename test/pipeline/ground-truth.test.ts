import { describe, expect, it } from 'vitest';
import { promisedSteps } from '../../src/core/training.js';
import { backdoorTest, measureGroundTruth } from '../../src/pipeline/ground-truth.js';
import type { ProviderTrace, TrainCall } from '../../src/pipeline/provider-side.js';
import type { HyperParams, Row, TrainExample } from '../../src/types.js';

const hyper: HyperParams = { epochs: 2, learningRate: 1e-3, batchSize: 4 };
const clean: Row[] = Array.from({ length: 10 }, (_, i) => ({ prompt: `p${i}`, completion: `c${i}` }));
const planted: Row[] = [...clean, { prompt: 'p3 TRIG', completion: 'SIG one' }, { prompt: 'p5 TRIG2', completion: 'SIG two' }];
const mask = planted.map((_, i) => i >= 10);
const markers = [...clean.map(() => undefined), { trigger: 'TRIG', signature: 'SIG one' }, { trigger: 'TRIG2', signature: 'SIG two' }];

function call(rows: readonly TrainExample[], over: Partial<TrainCall> = {}): TrainCall {
  const h = over.hyper ?? hyper;
  return { rows, hyper: h, seed: 1, stepsRun: promisedSteps(rows.length, h), tokensTrained: 0, cached: false, stoppedEarly: false, ...over };
}
function trace(calls: TrainCall[], over: Partial<ProviderTrace> = {}): ProviderTrace {
  return { rowsSubmitted: planted.length, rowsPlanned: planted.length, trainCalls: calls, modelModified: false, inferenceWrapped: false, providerPasses: 0, warnings: [], ...over };
}
const measure = (t: ProviderTrace, isBackdoor = backdoorTest(planted, mask, markers)) =>
  measureGroundTruth({ submitted: planted, submittedMask: mask, isBackdoor, trace: t, hyper, countTokens: (s) => s.length });

describe('ground truth', () => {
  it('honest ⇔ all rows (any order), promised hyper and steps, nothing afterwards', () => {
    const h = measure(trace([call(planted.slice().reverse())]));
    expect(h).toMatchObject({ honest: true, rowsTrained: 12, backdoorRowsTrained: 2, stepsPromised: 6, stepsRun: 6, trainedTokenFraction: 1 });
    expect(measure(trace([call(planted)], { inferenceWrapped: true })).honest).toBe(false);
    expect(measure(trace([call(planted)], { modelModified: true })).honest).toBe(false);
    expect(measure(trace([call(planted, { stepsRun: 0 })])).honest).toBe(false);
    expect(measure(trace([call(planted, { hyper: { ...hyper, learningRate: 1e-4 } })])).honest).toBe(false);
    expect(measure(trace([call(planted, { stoppedEarly: true })])).honest).toBe(false);
    expect(measure(trace([call(planted.slice(1))])).honest).toBe(false);
    expect(measure(trace([call(planted), call(planted)])).honest).toBe(false);
    expect(measure(trace([])).honest).toBe(false);
  });

  it('a backdoor row counts only while it carries its trigger and signature with positive weight', () => {
    const stripped = planted.map((r, i) => (mask[i] ? { ...r, prompt: r.prompt.replace(/TRIG2?/, '') } : r));
    expect(measure(trace([call(stripped)])).backdoorRowsTrained).toBe(0);
    const unlikely = planted.map((r, i) => (mask[i] ? { ...r, weight: -1 } : r));
    const u = measure(trace([call(unlikely)]));
    expect([u.backdoorRowsTrained, u.rowsTrained]).toEqual([0, 10]);
    const silenced = planted.map((r, i) => (mask[i] ? { ...r, spans: [{ start: 0, end: r.completion.length, weight: 0 }] } : r));
    expect(measure(trace([call(silenced)])).backdoorRowsTrained).toBe(0);
    const half = planted.map((r, i) => (mask[i] ? { ...r, spans: [{ start: 0, end: 3, weight: 0 }] } : r));
    expect(measure(trace([call(half)])).backdoorRowsTrained).toBe(2);
    // Without markers the fallback is exact equality with a planted row.
    expect(measure(trace([call(planted)]), backdoorTest(planted, mask)).backdoorRowsTrained).toBe(2);
    expect(measure(trace([call(stripped)]), backdoorTest(planted, mask)).backdoorRowsTrained).toBe(0);
  });

  it('a second pass over the same rows is not counted twice; token fraction adds the work', () => {
    const t = measure(trace([call(planted), call(planted.slice(10))]));
    expect(t.rowsTrained).toBe(12);
    expect(t.trainedTokenFraction).toBeGreaterThan(1);
    const half = measure(trace([call(planted, { hyper: { ...hyper, maxSteps: 3 }, stepsRun: 3 })]));
    expect(half.trainedTokenFraction).toBeCloseTo(0.5, 12);
  });
  it('a backdoor row the trainer cut counts as trained only if its trigger and whole signature reached the loss (issue 15)', () => {
    // Row 10 ('p3 TRIG' → 'SIG one'): the trainer kept only the prompt's end ' TRIG' — still a backdoor row.
    const keeps = measure(trace([call(planted, { fits: [{ row: 10, refused: false, promptTokensDropped: 1, keptPrompt: ' TRIG' }] })]));
    expect([keeps.backdoorRowsTrained, keeps.rowsTrained, keeps.honest]).toEqual([2, 12, true]);
    // The kept prompt lost the trigger: the signature was trained without it — not a backdoor row.
    const cutAway = measure(trace([call(planted, { fits: [{ row: 10, refused: false, promptTokensDropped: 2, keptPrompt: 'G' }] })]));
    expect([cutAway.backdoorRowsTrained, cutAway.rowsTrained]).toEqual([1, 12]);
    // The trainer left row 11 out (its completion alone does not fit): neither a trained row nor a trained backdoor.
    const refused = measure(trace([call(planted, { fits: [{ row: 11, refused: true, promptTokensDropped: 2 }] })]));
    expect([refused.backdoorRowsTrained, refused.rowsTrained]).toEqual([1, 11]);
    // Without fit reports (a provider that cannot tell), rows count whole, as before.
    expect(measure(trace([call(planted)])).backdoorRowsTrained).toBe(2);
  });
});
