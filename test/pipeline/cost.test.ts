import { afterEach, describe, expect, it } from 'vitest';
import type { AttackFactory, BenchAttack } from '../../attacks/compose.js';
import { attacks } from '../../attacks/index.js';
import { runCell } from '../../src/pipeline/cell.js';
import type { Model } from '../../src/types.js';
import { doubleDeps, doubleSpec } from './doubles.js';

const entries = attacks.entries as Record<string, AttackFactory>;
afterEach(() => void delete entries['cost-probe-double']);

describe('cost is measured', () => {
  it('extra inference passes come from the served model, judge tokens from the meter, data-stage forwards from the wrappers', async () => {
    // Test double attack: scores every row once with the base model, reports a judge, and serves through a
    // wrapper that asks both the trained and the base model for every query (2 passes per query: 1 extra).
    entries['cost-probe-double'] = (): BenchAttack => ({
      id: 'cost-probe-double',
      goal: 'evade',
      access: ['data', 'logprobs'],
      oracle: false,
      trains: true,
      async onData(plan, ctx) {
        await ctx.base.score!(plan.rows.map((r) => ({ prompt: r.prompt, continuation: r.completion })));
        ctx.cost.addJudgeTokens(1234, 0.5);
        return plan;
      },
      async onInference(model, ctx): Promise<Model> {
        return {
          id: `${model.id}+both`,
          capabilities: model.capabilities,
          async generate(prompts, options) {
            await ctx.base.generate(prompts, options);
            return model.generate(prompts, options);
          },
        };
      },
    });
    const out = await runCell(doubleSpec('cost-probe-double'), doubleDeps());
    expect(out.cost.extraInferencePasses).toBe(1);
    expect(out.cost.providerPasses).toBe(210);
    expect(out.cost.judgeTokens).toBe(1234);
    expect(out.cost.judgeUsd).toBe(0.5);
    expect(out.truth.inferenceWrapped).toBe(true);
    expect(out.truth.honest).toBe(false);
    expect(out.cost.trainedTokenFraction).toBeCloseTo(1, 9);
  });
});
