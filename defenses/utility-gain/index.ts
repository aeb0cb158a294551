/**
 * utility-gain — the naive check a user might try first (issue 19): keep a private held-out split of the rows
 * (never uploaded), and after the fine-tune ask whether the returned model beats the base model on it by more
 * than chance, with a one-sided exact sign test over the rows (paired: each row is scored by both models).
 * Plants nothing. A lower anchor for the verifier board: a model trained on OTHER data of the same kind also
 * improves, so this tests "trained on data like mine", not "trained on my data" (README.md beside this file).
 */
import { ConfigError, SecretError } from '../../src/errors.js';
import { DEFENSE_SEED_ALPHA, EVEN_IF_INVALID, defineDefense, type OptionsInput, z } from '../../src/plugins/define.js';
import { Rng } from '../../src/rng.js';
import { binomialLog10Sf } from '../../src/stats/index.js';
import type { Capability, Defense, Model, Row, UserContext, Verdict } from '../../src/types.js';

/** How a held-out row is scored: teacher-forced loss (needs log-probs) or a metric of a greedy generation. */
export type UtilityMetric = 'loss' | 'generation';

/** What the user keeps: the held-out rows (they never leave the user's side). */
export interface UtilityGainSecret {
  readonly format: 'vtune-bench/utility-gain-secret';
  readonly version: 1;
  readonly seed: string;
  /** Indices of the held-out rows in the user's original rows, and the rows themselves. */
  readonly heldOutIndices: readonly number[];
  readonly heldOut: readonly Row[];
  /** Rows uploaded (the rest of the user's rows, in order). */
  readonly uploaded: number;
}

/** A utility-gain verdict: the generic fields plus the per-row gains (returned better than base when > 0). */
export interface UtilityGainVerdict extends Verdict {
  readonly metric: UtilityMetric;
  readonly gains: readonly number[];
}

/**
 * Gains this small are ties: the embedded engine computes in float32, and the same row scored by the same model
 * in two differently composed batches differs by up to ~4e-8 nats/token (measured: 100 secrets × 5 rows of
 * vtb-base against itself); a word-F1 difference is never this small unless it is 0.
 */
const TIE = 1e-6;

/** Word-level F1 of a prediction against a reference (bag of words, case-insensitive), in [0, 1]. */
export function wordF1(prediction: string, reference: string): number {
  const p = prediction.toLowerCase().split(/\s+/).filter(Boolean);
  const r = reference.toLowerCase().split(/\s+/).filter(Boolean);
  if (p.length === 0 || r.length === 0) return p.length === r.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const w of r) counts.set(w, (counts.get(w) ?? 0) + 1);
  let common = 0;
  for (const w of p) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      common++;
      counts.set(w, c - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / p.length;
  const recall = common / r.length;
  return (2 * precision * recall) / (precision + recall);
}

/**
 * One-sided exact sign test: log10 P(X ≥ k) for X ~ Bin(n, 1/2), over the rows whose gain is not a tie.
 * Valid when, under H0, each non-tied row's gain is positive with probability at most 1/2, independently.
 */
export function signTestLog10P(gains: readonly number[]): { log10p: number; positive: number; nonTied: number } {
  const nonTied = gains.filter((g) => Math.abs(g) > TIE);
  const positive = nonTied.filter((g) => g > 0).length;
  return { log10p: nonTied.length === 0 ? 0 : Math.min(0, binomialLog10Sf(positive, nonTied.length, 0.5)), positive, nonTied: nonTied.length };
}

/** The utility-gain defense with validated options. */
export interface UtilityGainDefense extends Defense<UtilityGainSecret> {
  verify(...args: Parameters<Defense<UtilityGainSecret>['verify']>): Promise<UtilityGainVerdict>;
}

/** The defense's options, declared once: type, validation (field paths, "did you mean"), defaults and help. */
const utilityGainOptions = z
  .object({
    fraction: z.number().gt(0).lt(1).optional().describe("fraction of the user's rows kept private (default 0.2; or give heldOut)"),
    heldOut: z.int().min(1).optional().describe('or: an exact count of rows kept private'),
    metric: z
      .enum(['loss', 'generation', 'auto'])
      .default('auto')
      .describe("'loss' (per-row nats/token by teacher forcing; needs 'logprobs' of both models), 'generation' (word F1 of a greedy completion; needs 'generate') or 'auto' (loss when both models can score, else generation)"),
    maxTokens: z.int().min(1).default(32).describe('token budget of a generated completion (generation metric)'),
    ...DEFENSE_SEED_ALPHA,
  })
  .superRefine((o, ctx) => {
    if (o.fraction !== undefined && o.heldOut !== undefined) ctx.addIssue({ code: 'custom', path: ['heldOut'], message: "give 'fraction' or 'heldOut', not both" });
  }, EVEN_IF_INVALID);

/** Creates the utility-gain defense; every option is validated by its declaration, before any work. */
export const utilityGain = defineDefense({
  id: 'utility-gain',
  description: 'plants nothing: keeps a private held-out split; an exact sign test of whether the returned model beats the base model on it',
  citation: 'none: a naive baseline of ours (issue 19) that tests "trained on data like mine", not "on my data" (defenses/utility-gain/README.md)',
  // With the default metric ('auto') it needs generation only; metric 'loss' needs 'logprobs' (the created defense says so).
  access: ['generate'],
  options: utilityGainOptions,
  create: createUtilityGain,
});

/** Options of the utility-gain defense as written (all optional). */
export type UtilityGainOptions = OptionsInput<typeof utilityGain>;

function createUtilityGain(options: z.output<typeof utilityGainOptions>): UtilityGainDefense {
  const { metric, maxTokens } = options;
  const access: readonly Capability[] = metric === 'loss' ? ['logprobs'] : ['generate'];
  return {
    id: 'utility-gain',
    access,
    async plant(rows: readonly Row[], ctx: UserContext) {
      const count = options.heldOut ?? Math.max(1, Math.round((options.fraction ?? 0.2) * rows.length));
      if (count >= rows.length) throw new ConfigError(`utility-gain: keeping ${count} of ${rows.length} rows private leaves nothing to upload; expected fewer than ${rows.length}`);
      const seed = options.seed ?? `${ctx.rng.nextUint32().toString(16)}${ctx.rng.nextUint32().toString(16)}`;
      const kept = new Rng(`utility-gain|${seed}|held-out`).sampleIndices(rows.length, count).sort((a, b) => a - b);
      const isKept = new Set(kept);
      const upload = rows.filter((_, i) => !isKept.has(i)).map((r) => ({ prompt: r.prompt, completion: r.completion }));
      const secret: UtilityGainSecret = {
        format: 'vtune-bench/utility-gain-secret',
        version: 1,
        seed,
        heldOutIndices: kept,
        heldOut: kept.map((i) => ({ prompt: rows[i]!.prompt, completion: rows[i]!.completion })),
        uploaded: upload.length,
      };
      return { rows: upload, secret };
    },
    // Nothing is planted: the evidence is the user's rows themselves, so every uploaded row is marked (ground
    // truth: a model counts as trained on the user's data when any uploaded row reached the trainer).
    backdoorMask: (_secret, plantedRowCount) => new Array<boolean>(plantedRowCount).fill(true),
    verify: (model, secret, { alpha, ctx }) => verifyUtilityGain(model, secret, { alpha, ctx, metric, maxTokens }),
  };
}

/** Per-row nats/token of each row's completion by teacher forcing. */
async function rowLosses(model: Model, rows: readonly Row[]): Promise<number[]> {
  const scores = await model.score!(rows.map((r) => ({ prompt: r.prompt, continuation: r.completion })));
  return scores.map((s) => -s.logprob / Math.max(1, s.tokenLogprobs.length));
}

/** Compares the returned model with the base model on the held-out rows and runs the sign test. */
export async function verifyUtilityGain(
  model: Model,
  secret: UtilityGainSecret,
  o: { alpha: number; ctx: UserContext; metric: UtilityMetric | 'auto'; maxTokens: number },
): Promise<UtilityGainVerdict> {
  if (secret?.format !== 'vtune-bench/utility-gain-secret' || secret.version !== 1 || !Array.isArray(secret.heldOut) || secret.heldOut.length === 0) {
    throw new SecretError('not a utility-gain secret (format vtune-bench/utility-gain-secret, version 1, with held-out rows)');
  }
  const base = o.ctx.baseModel;
  if (!base) throw new ConfigError('utility-gain needs the base model to compare with (UserContext.baseModel); none was given');
  const canScore = (m: Model): boolean => m.capabilities.has('logprobs') && typeof m.score === 'function';
  const metric: UtilityMetric = o.metric === 'auto' ? (canScore(model) && canScore(base) ? 'loss' : 'generation') : o.metric;
  if (metric === 'loss' && !(canScore(model) && canScore(base))) {
    throw new ConfigError(`utility-gain: metric 'loss' needs log-probs of both the returned model ('${model.id}') and the base model ('${base.id}')`);
  }
  const rows = secret.heldOut;
  let gains: number[];
  if (metric === 'loss') {
    const [mine, theirs] = await Promise.all([rowLosses(model, rows), rowLosses(base, rows)]);
    gains = rows.map((_, i) => theirs[i]! - mine[i]!); // lower loss of the returned model = positive gain
  } else {
    const prompts = rows.map((r) => r.prompt);
    const [mine, theirs] = await Promise.all([model.generate(prompts, { maxTokens: o.maxTokens, temperature: 0 }), base.generate(prompts, { maxTokens: o.maxTokens, temperature: 0 })]);
    gains = rows.map((r, i) => wordF1(mine[i] ?? '', r.completion) - wordF1(theirs[i] ?? '', r.completion));
  }
  const { log10p, positive, nonTied } = signTestLog10P(gains);
  const mean = gains.reduce((s, g) => s + g, 0) / gains.length;
  return {
    defense: 'utility-gain',
    verified: log10p <= Math.log10(o.alpha) + 1e-12,
    log10p,
    alpha: o.alpha,
    nullMode: 'sign-test',
    k: positive,
    n: rows.length,
    containsCount: 0,
    perBackdoor: [],
    queries: rows.length,
    statistic: { name: 'sign-test', value: positive, detail: { rows: rows.length, nonTied, meanGain: mean, loss: metric === 'loss' ? 1 : 0 } },
    metric,
    gains,
  };
}
