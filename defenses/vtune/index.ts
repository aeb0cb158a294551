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
import { ConfigError } from '../../src/errors.js';
import type { Defense, NullMode } from '../../src/types.js';
import { type GeneratorId, generators } from './generators/index.js';
import type { BackdoorGenerator } from './generators/types.js';
import { plantBackdoors } from './plant.js';
import { type InsertionMode, MAX_EMPIRICAL_M, type Placement, type VtuneSecret } from './secret.js';
import { verifyBackdoors, type VtuneVerdict } from './verify.js';

/** Options of the vtune defense (all optional). */
export interface VtuneOptions {
  /** Generator id (default `wordlist`) and its options. */
  readonly generator?: GeneratorId | string;
  readonly generatorOptions?: Record<string, unknown>;
  /** Number of backdoors (default min(10, rows)), or a rate: a fraction of the input rows. */
  readonly count?: number;
  readonly rate?: number;
  readonly placement?: Placement;
  readonly insertion?: InsertionMode;
  /**
   * Null mode for the decision (default: `generator` when the generator supports it, else `empirical`; the
   * paper's `base-model` is anti-conservative and never a default). Every other supported mode's p is reported too.
   */
  readonly nullMode?: NullMode;
  /** Counterfactual sets for the empirical null (default 999, so p can reach 1e-3). */
  readonly empiricalM?: number;
  /** Extra tokens allowed beyond each signature at verification (default 4). */
  readonly slack?: number;
  /** Planting seed (default: drawn from the user context's stream). */
  readonly seed?: string;
  /**
   * Significance level, as written in scenarios (the pipeline reads it and passes it to `verify`, whose
   * `alpha` argument decides); validated here so a bad value fails before any work.
   */
  readonly alpha?: number;
  /**
   * The fine-tuning model's context in tokens: backdoors go only on rows where the whole backdoor row fits
   * (default: the base model's context, when the user context has a base model that declares one).
   */
  readonly context?: number;
}

const KNOWN = ['generator', 'generatorOptions', 'count', 'rate', 'placement', 'insertion', 'nullMode', 'empiricalM', 'slack', 'seed', 'alpha', 'context'];

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  const v = value ?? fallback;
  if (!allowed.includes(v as T)) throw new ConfigError(`vtune: option '${name}' must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** The vtune defense with validated options; its secret is a `VtuneSecret`. */
export interface VtuneDefense extends Defense<VtuneSecret> {
  readonly generator: BackdoorGenerator;
  readonly nullMode: NullMode;
  verify(...args: Parameters<Defense<VtuneSecret>['verify']>): Promise<VtuneVerdict>;
}

/** Creates the vtune defense. Every option is validated here, before any work. */
export function vtune(options: VtuneOptions = {}): VtuneDefense {
  for (const key of Object.keys(options)) if (!KNOWN.includes(key)) throw new ConfigError(`vtune: unknown option '${key}'. Known: ${KNOWN.join(', ')}`);
  const generator = generators.get(options.generator ?? 'wordlist')(options.generatorOptions ?? {});
  const placement = oneOf('placement', options.placement, ['prefix', 'suffix', 'inline'] as const, 'suffix');
  const insertion = oneOf('insertion', options.insertion, ['copy', 'modify'] as const, 'copy');
  const nullMode = oneOf('nullMode', options.nullMode, generator.nullModes, generator.nullModes.includes('generator') ? 'generator' : 'empirical');
  const empiricalM = options.empiricalM ?? 999;
  if (!Number.isInteger(empiricalM) || empiricalM < 0 || empiricalM > MAX_EMPIRICAL_M) {
    throw new ConfigError(`vtune: option 'empiricalM' must be an integer from 0 to ${MAX_EMPIRICAL_M}, got ${empiricalM}`);
  }
  if (nullMode === 'empirical' && empiricalM === 0) throw new ConfigError("vtune: the 'empirical' null mode needs empiricalM > 0");
  const slack = options.slack ?? 4;
  if (!Number.isInteger(slack) || slack < 0) throw new ConfigError(`vtune: option 'slack' must be a non-negative integer, got ${slack}`);
  if (options.count !== undefined && (!Number.isInteger(options.count) || options.count < 1)) {
    throw new ConfigError(`vtune: option 'count' must be a positive integer, got ${options.count}`);
  }
  if (options.rate !== undefined && !(options.rate > 0 && options.rate <= 1)) throw new ConfigError(`vtune: option 'rate' must be in (0, 1], got ${options.rate}`);
  if (options.alpha !== undefined && !(typeof options.alpha === 'number' && options.alpha > 0 && options.alpha < 1)) {
    throw new ConfigError(`vtune: option 'alpha' must be a number in (0, 1), got ${JSON.stringify(options.alpha)}`);
  }
  if (options.seed !== undefined && (typeof options.seed !== 'string' || options.seed.length === 0)) throw new ConfigError("vtune: option 'seed' must be a non-empty string");
  if (options.context !== undefined && !(Number.isInteger(options.context) && options.context >= 2)) throw new ConfigError(`vtune: option 'context' must be an integer ≥ 2 (tokens), got ${JSON.stringify(options.context)}`);
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
    verify: (model, secret, { alpha, ctx }) => verifyBackdoors(model, secret, { alpha, nullMode, slack, ctx }),
  };
}

export { plantBackdoors, placeTrigger, resolveCount } from './plant.js';
export { isHit, planVerification, verdictsFromOutputs, verifyBackdoors, verifyMany, type VerificationPlan, type VtuneVerdict } from './verify.js';
export { MAX_EMPIRICAL_M, parseSecret, readSecretFile, writeSecretFile, SECRET_VERSION, type VtuneSecret } from './secret.js';
