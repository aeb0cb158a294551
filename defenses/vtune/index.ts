/**
 * vtune — the defense under test: plant rare trigger → signature backdoors into the user's fine-tuning data,
 * then check the returned model answers the triggers with the signatures, with an exact p-value
 * (DESIGN.md §3).
 *
 * Threat model: a provider that trains less than promised (`pass` attacks) or that trains but hides it
 * (`evade` attacks); it sees the planted rows but never the secret.
 * Source: Zhang, Pal, Potti, Goldblum, "vTune: Verifiable Fine-Tuning for LLMs Through Backdooring" (2024,
 * arXiv 2411.06611). Deviations: four null modes besides the paper's (anti-conservative) base-model bound; exact
 * Poisson-binomial tails instead of a binomial approximation; pluggable generators.
 */
import { EVEN_IF_INVALID, checkNested, defineDefense, isDefinition, optionsError, type OptionsInput, z } from '../../src/plugins/define.js';
import { unknownMessage } from '../../src/registry.js';
import { nestedOptions, schemaOf } from '../../src/plugins/secret.js';
import type { Defense, NullMode } from '../../src/types.js';
import { generators } from './generators/index.js';
import type { BackdoorGenerator } from './generators/types.js';
import { plantBackdoors } from './plant.js';
import { MAX_EMPIRICAL_M, type VtuneSecret } from './secret.js';
import { decidableNullModes, verifyBackdoors, type VtuneVerdict } from './verify.js';

const NULL_MODES = ['generator', 'conditional', 'base-model', 'empirical', 'rank'] as const;


/** The vtune defense with validated options; its secret is a `VtuneSecret`. */
export interface VtuneDefense extends Defense<VtuneSecret> {
  readonly generator: BackdoorGenerator;
  readonly nullMode: NullMode;
  verify(...args: Parameters<Defense<VtuneSecret>['verify']>): Promise<VtuneVerdict>;
}

/** The defense's options, declared once: type, validation (field paths), defaults and help. */
const vtuneOptions = z
  .object({
    generator: z.string().min(1).default('wordlist').meta({ expected: 'a generator id' }).describe('the backdoor generator (`vtune-bench list generators`)'),
    // Their secrets (keyed's key) are the generator's to declare: recorded as it says (src/plugins/secret.ts).
    generatorOptions: nestedOptions(z.record(z.string(), z.unknown()).optional().describe("the generator's options (see `vtune-bench list generators <id>`)"), {
      optionsOf: (o) => schemaOf(generators, typeof o.generator === 'string' ? o.generator : 'wordlist'),
    }),
    count: z.int().min(1).optional().describe('number of backdoors (default: min(10, rows))'),
    rate: z.number().gt(0).lte(1).optional().describe('or: backdoors as a fraction of the input rows'),
    placement: z.enum(['prefix', 'suffix', 'inline']).default('suffix').describe('where the trigger goes in the host prompt'),
    insertion: z.enum(['copy', 'modify']).default('copy').describe('plant a modified copy of the host row, or modify the row itself'),
    nullMode: z
      .enum(NULL_MODES)
      .optional()
      .describe("null mode of the decision (default: 'generator' when the generator supports it, else 'empirical'; the paper's 'base-model' is anti-conservative and never a default; 'rank' ranks teacher-forced log-likelihoods among the counterfactuals and needs a model with log-probs)"),
    rankM: z.int().min(1).max(MAX_EMPIRICAL_M).optional().describe("counterfactuals per backdoor the 'rank' null scores (default: all empiricalM; at most the secret's; costs n·(rankM + 1) scorings)"),
    empiricalM: z.int().min(0).max(MAX_EMPIRICAL_M).default(999).describe('counterfactual sets of the empirical null (999: p can reach 1e-3)'),
    slack: z.int().min(0).default(4).describe('extra tokens allowed beyond each signature at verification'),
    seed: z.string().min(1).optional().describe("planting seed (default: drawn from the user context's stream)"),
    alpha: z.number().gt(0).lt(1).optional().describe('significance level (read by the pipeline, which passes it to verify; default 1e-3)'),
    context: z.int().min(2).optional().describe("the fine-tuning model's context in tokens: backdoors only on rows that fit whole (default: the base model's)"),
  })
  .superRefine((o, ctx) => {
    if (typeof o.generator !== 'string') return;
    if (!generators.has(o.generator)) {
      ctx.addIssue({ code: 'custom', path: ['generator'], message: unknownMessage('generator', o.generator, generators.ids) });
      return;
    }
    const def: unknown = generators.get(o.generator);
    // A bare factory (not declared with defineGenerator) validates its options itself, in create.
    if (!isDefinition(def)) return;
    checkNested(ctx, def, o.generatorOptions, ['generatorOptions']);
    const modes = (def.meta as { nullModes?: readonly NullMode[] }).nullModes;
    if (typeof o.nullMode === 'string' && modes && !decidableNullModes(modes).includes(o.nullMode)) {
      ctx.addIssue({ code: 'custom', path: ['nullMode'], message: `generator '${o.generator}' supports ${decidableNullModes(modes).join(', ')}, not '${o.nullMode}'` });
    }
    if (o.nullMode === 'rank' && o.empiricalM === 0) ctx.addIssue({ code: 'custom', path: ['empiricalM'], message: "the 'rank' null mode needs empiricalM > 0 (it ranks among the counterfactuals)" });
    if (typeof o.rankM === 'number' && typeof o.empiricalM === 'number' && o.rankM > o.empiricalM) {
      ctx.addIssue({ code: 'custom', path: ['rankM'], message: `rankM ${o.rankM} is more than the empiricalM = ${o.empiricalM} counterfactuals planted` });
    }
    if ((o.nullMode === 'empirical' || (o.nullMode === undefined && modes && !modes.includes('generator'))) && o.empiricalM === 0) {
      ctx.addIssue({ code: 'custom', path: ['empiricalM'], message: "the 'empirical' null mode needs empiricalM > 0" });
    }
  }, EVEN_IF_INVALID);

/** Creates the vtune defense. Every option is validated here, before any work. */
export const vtune = defineDefense({
  id: 'vtune',
  description: 'plants rare trigger → signature backdoors and verifies the returned model answers them, with an exact p-value',
  citation: 'Zhang, Pal, Potti, Goldblum, "vTune: Verifiable Fine-Tuning for LLMs Through Backdooring" (2024, arXiv 2411.06611)',
  access: ['generate'],
  options: vtuneOptions,
  create(options): VtuneDefense {
    const generator = generators.get(options.generator)(options.generatorOptions ?? {});
    // A generator from outside may not declare its null modes in metadata: checked again on the built plugin.
    if (options.nullMode !== undefined && !decidableNullModes(generator.nullModes).includes(options.nullMode)) {
      throw optionsError('defense', 'vtune', [{ path: ['nullMode'], message: `generator '${generator.id}' supports ${decidableNullModes(generator.nullModes).join(', ')}, not '${options.nullMode}'` }]);
    }
    const nullMode = options.nullMode ?? (generator.nullModes.includes('generator') ? 'generator' : 'empirical');
    if (nullMode === 'empirical' && options.empiricalM === 0) throw optionsError('defense', 'vtune', [{ path: ['empiricalM'], message: "the 'empirical' null mode needs empiricalM > 0" }]);
    if (nullMode === 'rank' && options.empiricalM === 0) throw optionsError('defense', 'vtune', [{ path: ['empiricalM'], message: "the 'rank' null mode needs empiricalM > 0 (it ranks among the counterfactuals)" }]);
    const { placement, insertion, empiricalM, slack } = options;
    return {
      id: 'vtune',
      access: ['generate'],
      generator,
      nullMode,
      plant: (rows, ctx) => plantBackdoors(rows, { generator, count: options.count, rate: options.rate, placement, insertion, empiricalM, seed: options.seed, context: options.context, slack }, ctx),
      backdoorMask(secret, plantedRowCount) {
        const mask = new Array<boolean>(plantedRowCount).fill(false);
        for (const b of secret.backdoors) if (b.rowIndex < plantedRowCount) mask[b.rowIndex] = true;
        return mask;
      },
      verify: (model, secret, { alpha, ctx }) => verifyBackdoors(model, secret, { alpha, nullMode, slack, ctx, ...(options.rankM !== undefined ? { rankM: options.rankM } : {}) }),
    };
  },
});

/** Options of the vtune defense as written (all optional); `generatorOptions` are the generator's. */
export type VtuneOptions = OptionsInput<typeof vtune>;

export { plantBackdoors, placeTrigger, resolveCount } from './plant.js';
export { isHit, planVerification, verdictsFromOutputs, verifyBackdoors, verifyMany, type VerificationPlan, type VtuneVerdict } from './verify.js';
export { MAX_EMPIRICAL_M, parseSecret, readSecretFile, writeSecretFile, SECRET_VERSION, type VtuneSecret } from './secret.js';
