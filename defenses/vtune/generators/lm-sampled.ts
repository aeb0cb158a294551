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
 *
 * `fixedLength: true` draws every trigger and signature as exactly L tokens, stop tokens masked (Hugging Face's
 * `min_new_tokens = max_new_tokens`), token by token through the model's SamplingAccess; the conditional null
 * scores the same masked law (lm-prefix.ts). It is for models that end a raw prompt at once — the project's
 * vtb-base answers most built-in prompts with an immediate stop, so the default draw gives only empty samples
 * there. Default false: the paper's rule (a stop token ends the sample), unchanged. With fixedLength the
 * `empirical` null's M·n counterfactuals cost M·n·L forward passes (no KV cache): plant with a small empiricalM
 * or none and decide with `conditional`.
 */
import { ConfigError, ProviderError } from '../../../src/errors.js';
import type { Model } from '../../../src/types.js';
import type { Rng } from '../../../src/rng.js';
import { defineGenerator, z } from '../../../src/plugins/define.js';
import type { BackdoorGenerator } from './types.js';
import { lmPrefixBounds, sampleFixedLength } from './lm-prefix.js';
import { lengthOption } from './options.js';

const ID = 'lm-sampled';
const ATTEMPTS = 8;

function needModel(model: Model | undefined): Model {
  if (!model) throw new ConfigError(`generator '${ID}' needs a generator model (UserContext.generatorModel; CLI: --generator-model)`);
  if (!model.capabilities.has('generate')) throw new ConfigError(`generator '${ID}': model '${model.id}' cannot generate`);
  return model;
}

/** What is sampled, for messages: the trigger after the host prompt, or a signature after prompt ⊕ trigger. */
type Part = 'trigger' | 'signature';
const AFTER: Record<Part, string> = { trigger: 'the host prompt', signature: 'the host prompt and trigger' };

/**
 * One non-empty sample, whitespace-normalised. Empty samples are redrawn with the next seed; the same rule
 * applies to planted and counterfactual signatures, so they stay exchangeable.
 */
async function sample(model: Model, prompt: string, maxTokens: number, temperature: number, rng: Rng, part: Part): Promise<string> {
  for (let a = 0; a < ATTEMPTS; a++) {
    const [out] = await model.generate([prompt], { maxTokens, temperature, seed: rng.seed31() });
    const text = (out ?? '').replace(/\s+/g, ' ').trim();
    if (text.length > 0) return text;
  }
  // The usual cause is a model that ends a whole prompt at once (vtb-base saw prompts as whole documents): say what helps.
  throw new ProviderError(
    `generator '${ID}': model '${model.id}' returned empty text ${ATTEMPTS} times in a row for the ${part} (after ${AFTER[part]}); a model that ends such a prompt at once needs the generator option fixedLength: true (stop tokens masked)`,
  );
}

/** One non-empty fixed-length sample per prompt (see `sample` for the redraw rule, which is the same). */
async function sampleFixed(model: Model, prompts: readonly string[], maxTokens: number, temperature: number, rng: Rng): Promise<string[]> {
  const sampling = model.sampling;
  if (!sampling) throw new ConfigError(`generator '${ID}': fixedLength samples token by token and model '${model.id}' gives no sampling access (use a local model)`);
  const out: (string | undefined)[] = prompts.map(() => undefined);
  // One stream per prompt and attempt, taken in order from the generator's stream: reproducible per seed.
  for (let a = 0; a < ATTEMPTS; a++) {
    const todo = out.flatMap((o, i) => (o === undefined ? [i] : []));
    if (todo.length === 0) break;
    const streams = todo.map(() => rng.fork(`fixed-${a}`));
    const texts = await sampleFixedLength(sampling, todo.map((i) => prompts[i]!), streams, { maxTokens, temperature });
    texts.forEach((t, k) => {
      const text = t.replace(/\s+/g, ' ').trim();
      if (text.length > 0) out[todo[k]!] = text;
    });
  }
  if (out.some((o) => o === undefined)) throw new ProviderError(`generator '${ID}': model '${model.id}' gave a blank fixed-length sample ${ATTEMPTS} times in a row`);
  return out as string[];
}

/**
 * Creates the lm-sampled generator. Options: temperature τ (1), triggerLength (8), signatureLength (16), in model
 * tokens; fixedLength (false): every sample exactly that many tokens, stop tokens masked.
 */
export const lmSampled = defineGenerator({
  id: ID,
  description: "the paper's generator: trigger and signature sampled from a generator model at temperature τ, in-distribution",
  citation: 'vTune (Zhang, Pal, Potti, Goldblum 2024, arXiv 2411.06611) §3',
  meta: { nullModes: ['conditional', 'base-model', 'empirical'] },
  options: z.object({
    temperature: z.number().gt(0).lte(10).default(1).describe('sampling temperature τ'),
    triggerLength: lengthOption(8, 256, 'model tokens in a trigger (a budget: samples may stop earlier, unless fixedLength)'),
    signatureLength: lengthOption(16, 1024, 'model tokens in a signature (a budget: samples may stop earlier, unless fixedLength)'),
    fixedLength: z.boolean().default(false).describe('every sample exactly its length in tokens, stop tokens masked (for a model that ends raw prompts at once, e.g. vtb-base)'),
  }),
  create: ({ temperature, triggerLength, signatureLength, fixedLength }): BackdoorGenerator => {
  const draw1 = async (m: Model, prompt: string, L: number, rng: Rng, part: Part): Promise<string> =>
    fixedLength ? (await sampleFixed(m, [prompt], L, temperature, rng))[0]! : sample(m, prompt, L, temperature, rng, part);
  const generator: BackdoorGenerator = {
    id: ID,
    nullModes: ['conditional', 'base-model', 'empirical'],
    // fixedLength is recorded only when set, so the options (and every key derived from them) of existing secrets stay as they were.
    options: { temperature, triggerLength, signatureLength, ...(fixedLength ? { fixedLength } : {}) },
    counterfactualSource: 'stored',
    usesModel: true,
    async draw({ rng, row, model }) {
      const m = needModel(model);
      const trigger = await draw1(m, row.prompt, triggerLength, rng, 'trigger');
      const signature = await draw1(m, `${row.prompt} ${trigger}`, signatureLength, rng, 'signature');
      return { trigger, signature };
    },
    async counterfactuals({ rng, row, model }, backdoor, count) {
      const m = needModel(model);
      const prompt = `${row.prompt} ${backdoor.trigger}`;
      if (fixedLength) return sampleFixed(m, Array.from({ length: count }, () => prompt), signatureLength, temperature, rng);
      const out: string[] = [];
      for (let j = 0; j < count; j++) out.push(await sample(m, prompt, signatureLength, temperature, rng, 'signature'));
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
      return lmPrefixBounds(m.sampling, jobs, { maxTokens: signatureLength, temperature, maskStops: fixedLength });
    },
  };
  return generator;
  },
});
