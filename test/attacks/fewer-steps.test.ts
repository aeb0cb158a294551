import { describe, expect, it } from 'vitest';
import { fewerSteps } from '../../attacks/fewer-steps.js';
import { ConfigError } from '../../src/errors.js';
import { runProviderSide } from '../../src/pipeline/provider-side.js';
import { providerContext, ROWS } from './helpers.js';

describe('fewer-steps', () => {
  it('runs the given fraction of the promised steps on all rows', async () => {
    const out = await runProviderSide(fewerSteps({ stepFraction: 0.2 }), ROWS, await providerContext()); // promised 25 × 2 = 50
    const call = out.trace.trainCalls[0]!;
    expect(call.rows).toHaveLength(100);
    expect(call.hyper.maxSteps).toBe(10);
    expect(call.stepsRun).toBe(10);
  });

  it('lower learning rate, fewer epochs, lower LoRA rank; default is half the steps', async () => {
    const out = await runProviderSide(fewerSteps({ learningRateFactor: 0.1, epochs: 1, loraRank: 2 }), ROWS, await providerContext());
    expect(out.trace.trainCalls[0]!.hyper).toMatchObject({ learningRate: 1e-4, epochs: 1, lora: { rank: 2 } });
    expect(out.trace.trainCalls[0]!.hyper.maxSteps).toBeUndefined();
    const def = await runProviderSide(fewerSteps(), ROWS, await providerContext());
    expect(def.trace.trainCalls[0]!.stepsRun).toBe(25);
  });

  it('validates options', () => {
    expect(() => fewerSteps({ stepFraction: 0 })).toThrow(/: stepFraction: /);
    expect(() => fewerSteps({ epochs: 1.5 })).toThrow(/: epochs: /);
    expect(() => fewerSteps({ learningRateFactor: 3 })).toThrow(/: learningRateFactor: /);
    expect(() => fewerSteps({ loraRank: 0 })).toThrow(ConfigError);
    expect(() => fewerSteps({ steps: 3 })).toThrow(/unknown option 'steps'/);
  });
});
