/**
 * lm-sampled — the paper's generator: the trigger is sampled from a generator model at temperature τ
 * conditioned on the host row's prompt, and the signature is sampled conditioned on prompt ⊕ trigger, so both
 * read like the data.
 *
 * Threat model: in-distribution backdoors that resist anomaly filtering. No model-free bound exists (the
 * generator's distribution is the model's), so it supports the `conditional` null (qᵢ = the generator model's
 * probability of drawing a signature compatible with the observed output, computed token by token from the same
 * model: lm-prefix.ts; needs the generator model at verification), the `empirical` null, whose counterfactuals
 * are further independent samples of the same conditional, drawn at planting (M·n generations) and stored in the
 * secret, and the paper's `base-model` null, kept for comparison: it is anti-conservative even with the base
 * model itself as generator at τ = 1 (it scores the random secret, not the counted event: DESIGN.md §3).
 * Source: vTune (Zhang, Pal, Potti, Goldblum 2024, arXiv 2411.06611) §3. Deviations: the trigger is conditioned
 * on the prompt alone and the signature on `prompt + ' ' + trigger` regardless of where the defense places the
 * trigger; whitespace in samples is collapsed to single spaces.
 */
import { ConfigError, ProviderError } from '../../../src/errors.js';
import type { Model } from '../../../src/types.js';
import type { Rng } from '../../../src/rng.js';
import { defineGenerator, z } from '../../../src/plugins/define.js';
import type { BackdoorGenerator } from './types.js';
import { lmPrefixBounds } from './lm-prefix.js';
import { lengthOption } from './options.js';

const ID = 'lm-sampled';
const ATTEMPTS = 8;

function needModel(model: Model | undefined): Model {
  if (!model) throw new ConfigError(`generator '${ID}' needs a generator model (UserContext.generatorModel; CLI: --generator-model)`);
  if (!model.capabilities.has('generate')) throw new ConfigError(`generator '${ID}': model '${model.id}' cannot generate`);
  return model;
}

/**
 * One non-empty sample, whitespace-normalised. Empty samples are redrawn with the next seed; the same rule
 * applies to planted and counterfactual signatures, so they stay exchangeable.
 */
async function sample(model: Model, prompt: string, maxTokens: number, temperature: number, rng: Rng): Promise<string> {
  for (let a = 0; a < ATTEMPTS; a++) {
    const [out] = await model.generate([prompt], { maxTokens, temperature, seed: rng.seed31() });
    const text = (out ?? '').replace(/\s+/g, ' ').trim();
    if (text.length > 0) return text;
  }
  throw new ProviderError(`generator '${ID}': model '${model.id}' returned empty text ${ATTEMPTS} times in a row`);
}

/** Creates the lm-sampled generator. Options: temperature τ (1), triggerLength (8), signatureLength (16), in model tokens. */
export const lmSampled = defineGenerator({
  id: ID,
  description: "the paper's generator: trigger and signature sampled from a generator model at temperature τ, in-distribution",
  citation: 'vTune (Zhang, Pal, Potti, Goldblum 2024, arXiv 2411.06611) §3',
  meta: { nullModes: ['conditional', 'base-model', 'empirical'] },
  options: z.object({
    temperature: z.number().gt(0).lte(10).default(1).describe('sampling temperature τ'),
    triggerLength: lengthOption(8, 256, 'model tokens in a trigger (a budget: samples may stop earlier)'),
    signatureLength: lengthOption(16, 1024, 'model tokens in a signature (a budget: samples may stop earlier)'),
  }),
  create: ({ temperature, triggerLength, signatureLength }): BackdoorGenerator => {
  const generator: BackdoorGenerator = {
    id: ID,
    nullModes: ['conditional', 'base-model', 'empirical'],
    options: { temperature, triggerLength, signatureLength },
    counterfactualSource: 'stored',
    usesModel: true,
    async draw({ rng, row, model }) {
      const m = needModel(model);
      const trigger = await sample(m, row.prompt, triggerLength, temperature, rng);
      const signature = await sample(m, `${row.prompt} ${trigger}`, signatureLength, temperature, rng);
      return { trigger, signature };
    },
    async counterfactuals({ rng, row, model }, backdoor, count) {
      const m = needModel(model);
      const out: string[] = [];
      for (let j = 0; j < count; j++) out.push(await sample(m, `${row.prompt} ${backdoor.trigger}`, signatureLength, temperature, rng));
      return out;
    },
    async conditionalLog10q(items) {
      if (items.length === 0) return [];
      const m = needModel(items[0]!.ctx.model);
      if (!m.sampling || !m.capabilities.has('logprobs')) {
        throw new ConfigError(`generator '${ID}': the 'conditional' null needs token-level sampling access to the generator model, and model '${m.id}' gives none (use a local model)`);
      }
      // The same prompt `draw` conditions the signature on, the same L, τ and (default) topP as `sample`.
      const jobs = items.map(({ ctx, backdoor, output }) => ({ prompt: `${ctx.row.prompt} ${backdoor.trigger}`, output }));
      return lmPrefixBounds(m.sampling, jobs, { maxTokens: signatureLength, temperature });
    },
  };
  return generator;
  },
});
