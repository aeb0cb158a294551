/**
 * Verification (vTune step 2, DESIGN.md §3): send each backdoor's query to the returned model (greedy, max
 * tokens = signature tokens + slack), count K = exact prefix hits after trimming leading whitespace (and a
 * `contains` count), and turn K into log10 p under the chosen null mode. The p-value of every other mode the
 * secret's generator supports is computed from the same outputs (no extra queries), so the benchmark measures
 * each mode's Type-I error — the paper's `base-model` mode in particular is anti-conservative (DESIGN.md §3).
 *
 * Split in two so that many secrets can be verified with one batched generate call (`vtune-bench calibrate`):
 * `planVerification` checks the secret and the null mode and returns the queries, `verdictsFromOutputs` turns
 * the outputs into verdicts; `verifyBackdoors` and `verifyMany` chain them around `model.generate`.
 */
import { ConfigError, SecretError } from '../../src/errors.js';
import { empiricalLog10P, empiricalPValue } from '../../src/stats/empirical.js';
import { poissonBinomialLog10Sf } from '../../src/stats/poisson-binomial.js';
import { rankFisherLog10 } from '../../src/stats/rank-fisher.js';
import type { Rng } from '../../src/rng.js';
import type { BackdoorResult, Model, NullMode, UserContext, Verdict } from '../../src/types.js';
import { generators } from './generators/index.js';
import { compatible } from './generators/lm-prefix.js';
import type { BackdoorGenerator, ConditionalBound } from './generators/types.js';
import { backdoorStream, baseModelLog10q, counterfactualStream, LOG10Q_FLOOR, placeTrigger } from './plant.js';
import type { SecretBackdoor, VtuneSecret } from './secret.js';
import { Rng as SeededRng } from '../../src/rng.js';

/** Verification options. */
export interface VerifyOptions {
  readonly alpha: number;
  readonly nullMode: NullMode;
  /** Extra tokens allowed beyond the signature's length. */
  readonly slack: number;
  readonly ctx: UserContext;
  /** Counterfactuals per backdoor the 'rank' null scores (default: all the secret's empirical m). */
  readonly rankM?: number;
}

/** A vTune verdict, with the p-value under every null mode the secret's generator supports (same outputs). */
export interface VtuneVerdict extends Verdict {
  /** log10 p per null mode; the smallest of them is NOT a p-value (only `nullMode` decides). */
  readonly log10pByNullMode: Partial<Record<NullMode, number>>;
  /** Per null mode, log10 qᵢ of every backdoor (planting order). */
  readonly log10qByNullMode: Partial<Record<NullMode, readonly number[]>>;
  /** Caveats on this p-value's validity or reach (also logged as warnings): never left to silence. */
  readonly warnings: readonly string[];
}

/** The label of the paper's `base-model` null wherever it is printed. */
const BASE_MODEL_CAVEAT =
  "the 'base-model' null is the paper's and ANTI-CONSERVATIVE: qᵢ = P_base(Sᵢ | query) scores the random secret instead of the counted event, so a " +
  'missed backdoor gets a qᵢ far below its real chance of a hit, even with the base model itself as generator at τ = 1 (measured with lm-sampled on stories260K, 10 backdoors, ' +
  "an untrained base: P(p ≤ 1e-3) = 0.010, ten times α). Kept for comparison; decide with the 'conditional', 'generator' or 'empirical' null (DESIGN.md §3; measured Type-I: `vtune-bench calibrate`)";

/** Why the chosen null's p-value may mislead, stated with the verdict (DESIGN.md §3). */
export function nullModeWarnings(nullMode: NullMode, alpha: number, empiricalM: number): string[] {
  const out: string[] = [];
  if (nullMode === 'base-model') out.push(BASE_MODEL_CAVEAT);
  if (nullMode === 'empirical' && 1 / (empiricalM + 1) > alpha * (1 + 1e-12)) {
    out.push(`the 'empirical' null with M = ${empiricalM} counterfactual sets cannot reach p ≤ α = ${alpha}: its smallest p-value is 1/(M + 1); plant with empiricalM ≥ ${Math.ceil(1 / alpha) - 1}`);
  }
  return out;
}

/** Does the output count as a hit: it starts with the signature once leading whitespace is trimmed. */
export function isHit(output: string, signature: string): boolean {
  return output.trimStart().startsWith(signature);
}

/** Token budget for a signature: the model's own count when it has one, else its UTF-8 bytes (≥ tokens for byte-fallback tokenizers). */
export function signatureBudget(model: Pick<Model, 'countTokens'>, signature: string, slack: number): number {
  const tokens = model.countTokens ? model.countTokens(signature) : Buffer.byteLength(signature, 'utf8');
  return tokens + slack;
}

/**
 * The counterfactual signature sets, stored in the secret or redrawn from its seed. A redraw is exchangeable
 * with the planted signatures only if this code draws exactly as the planting code did (same vocabulary, same
 * random stream, same options), so the planted backdoors are redrawn first and must come out identical;
 * otherwise the sets are refused (undefined, with the reason) rather than silently drawn from another
 * distribution.
 */
async function counterfactualSets(secret: VtuneSecret): Promise<{ sets?: string[][]; reason?: string }> {
  const { m, source } = secret.empirical;
  if (m <= 0) return { reason: 'the secret holds no counterfactual signatures (M = 0)' };
  if (source === 'stored') {
    const sets = secret.backdoors.map((b) => b.counterfactuals);
    if (sets.some((s) => !s || s.length !== m)) return { reason: 'the secret holds incomplete counterfactual signatures' };
    return { sets: sets as string[][] };
  }
  const generator = generators.get(secret.generator.id)({ ...secret.generator.options });
  const draw = (b: VtuneSecret['backdoors'][number], rng: Rng) => ({ rng, index: b.index, row: { prompt: b.prompt, completion: b.signature }, rowIndex: b.sourceRowIndex, rows: [] });
  for (const b of secret.backdoors) {
    const again = await generator.draw(draw(b, backdoorStream(secret.seed, b.index)));
    if (again.trigger !== b.trigger || again.signature !== b.signature) {
      return { reason: `generator '${secret.generator.id}' no longer redraws this secret's backdoors from its seed (the generator changed since planting), so its counterfactuals cannot be regenerated exchangeably` };
    }
  }
  return { sets: await Promise.all(secret.backdoors.map((b) => generator.counterfactuals(draw(b, counterfactualStream(secret.seed, b.index)), { trigger: b.trigger, signature: b.signature }, m))) };
}

/** Everything needed to turn a model's outputs for one secret into a verdict (no model query made yet). */
export interface VerificationPlan {
  readonly secret: VtuneSecret;
  readonly alpha: number;
  readonly nullMode: NullMode;
  /** The null modes whose p-value will be computed (the decision mode among them). */
  readonly modes: readonly NullMode[];
  /** The queries, one per backdoor in planting order, and the token budget for all of them. */
  readonly prompts: readonly string[];
  readonly maxTokens: number;
  readonly warnings: readonly string[];
  readonly generator: BackdoorGenerator;
  readonly counterfactuals?: readonly string[][];
  /** The 'rank' null's M (counterfactuals scored per backdoor), set exactly when it decides. */
  readonly rankM?: number;
  /**
   * Per backdoor, the host prompt(s) the trigger was placed in (several only if the inline placement is
   * ambiguous); [''] when the generator does not condition on it.
   */
  readonly hostPrompts: readonly (readonly string[])[];
  readonly ctx: UserContext;
}

/** Rebuilds the secret's generator from its recorded options (keyed: a verify-only instance without the key). */
function secretGenerator(secret: VtuneSecret): BackdoorGenerator {
  try {
    return generators.get(secret.generator.id)({ ...secret.generator.options });
  } catch (err) {
    throw new SecretError(`the secret's generator '${secret.generator.id}' cannot be rebuilt from its recorded options: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The host prompt the trigger was placed in, recovered from the query (the secret keeps the query, the trigger,
 * the placement and the seed that chose an inline position). Inline placement can in rare cases be undone in
 * several ways; every consistent candidate is returned (the conditional null takes the largest qᵢ over them).
 */
export function hostPrompts(secret: VtuneSecret, b: SecretBackdoor): string[] {
  const { prompt: query, trigger } = b;
  if (query === trigger) return [''];
  // No trigger (in-place): the query is the host prompt itself.
  if (trigger === '') return [query];
  const candidates: string[] = [];
  if (secret.placement === 'prefix' && query.startsWith(`${trigger} `)) candidates.push(query.slice(trigger.length + 1));
  if (secret.placement === 'suffix' && query.endsWith(` ${trigger}`)) candidates.push(query.slice(0, query.length - trigger.length - 1));
  if (secret.placement === 'inline') {
    for (let at = query.indexOf(` ${trigger}`); at >= 0; at = query.indexOf(` ${trigger}`, at + 1)) {
      const host = query.slice(0, at) + query.slice(at + 1 + trigger.length);
      if (!candidates.includes(host) && placeTrigger(host, trigger, 'inline', new SeededRng(`vtune|${secret.seed}|placement|${b.index}`)) === query) candidates.push(host);
    }
  }
  if (candidates.length === 0) throw new SecretError(`backdoor #${b.index}: its query does not hold its trigger as the '${secret.placement}' placement puts it (the secret is inconsistent)`);
  return candidates;
}

/** Refuses a secret whose stored generator bound disagrees with the one its recorded options determine. */
function checkStoredBounds(secret: VtuneSecret, generator: BackdoorGenerator): void {
  if (!generator.boundFromOptions) return;
  for (const b of secret.backdoors) {
    const expected = Math.max(LOG10Q_FLOOR, generator.boundFromOptions(b));
    const stored = b.log10q.generator;
    if (stored === undefined || !(Math.abs(stored - expected) <= 1e-9 * Math.max(1, Math.abs(expected)))) {
      throw new SecretError(
        `backdoor #${b.index}: the stored generator bound log10 q = ${stored ?? 'missing'} disagrees with ${expected} recomputed from generator '${secret.generator.id}' and its recorded options: the secret was edited (and resealed); refusing it`,
      );
    }
  }
}

/**
 * Checks the secret and the null mode, and prepares the queries, before any (possibly paid) model query.
 * `model` is the model to be verified (its tokenizer sets the token budget).
 */
export async function planVerification(model: Pick<Model, 'id' | 'capabilities' | 'countTokens' | 'score' | 'unavailable'>, secret: VtuneSecret, options: VerifyOptions): Promise<VerificationPlan> {
  const { alpha, nullMode, slack, ctx } = options;
  if (!(alpha > 0 && alpha < 1)) throw new ConfigError(`alpha must be in (0, 1), got ${alpha}`);
  const generator = secretGenerator(secret);
  const decidable = decidableNullModes(generator.nullModes);
  // 'rank' is computed only when it decides.
  const supported: readonly NullMode[] = nullMode === 'rank' && decidable.includes('rank') ? decidable : generator.nullModes;
  const foreign = secret.nullModes.filter((m) => !supported.includes(m));
  if (foreign.length > 0) throw new SecretError(`the secret lists null mode(s) ${foreign.join(', ')} that generator '${secret.generator.id}' does not support (${supported.join(', ')}): refusing it`);
  if (!supported.includes(nullMode)) {
    throw new ConfigError(`null mode '${nullMode}' is not valid for generator '${secret.generator.id}'; it supports: ${decidable.join(', ')}`);
  }
  checkStoredBounds(secret, generator);
  if (!model.capabilities.has('generate')) throw new ConfigError(`model '${model.id}' cannot generate, so it cannot be verified`);
  if (nullMode === 'rank' && !(model.score && model.capabilities.has('logprobs'))) {
    const why = model.unavailable?.logprobs ? `: ${model.unavailable.logprobs}` : '';
    throw new ConfigError(`vtune option nullMode 'rank' scores each signature's teacher-forced log-probability under the verified model, and model '${model.id}' gives no log-probs${why}; choose another nullMode`);
  }
  let rankM: number | undefined;
  if (nullMode === 'rank') {
    rankM = options.rankM ?? secret.empirical.m;
    if (!Number.isInteger(rankM) || rankM < 1 || rankM > secret.empirical.m) {
      throw new ConfigError(`vtune option rankM must be an integer from 1 to the secret's ${secret.empirical.m} counterfactuals, got ${rankM}`);
    }
  }
  const backdoors = secret.backdoors;
  const warnings: string[] = [];
  const modes: NullMode[] = [];
  for (const mode of supported) {
    const why = unavailable(mode, secret, generator, ctx);
    if (why === undefined) modes.push(mode);
    else if (mode === nullMode) throw new ConfigError(`cannot compute the '${mode}' null: ${why}`);
    else if (mode === 'conditional') warnings.push(`the 'conditional' p-value is not reported: ${why}`);
  }
  // A model-based generator conditioned on the host prompt: recover it (only then, and only if needed).
  let hosts: string[][] = backdoors.map(() => ['']);
  if (modes.includes('conditional') && generator.usesModel) {
    try {
      hosts = backdoors.map((b) => hostPrompts(secret, b));
    } catch (err) {
      if (nullMode === 'conditional') throw err;
      modes.splice(modes.indexOf('conditional'), 1);
      warnings.push(`the 'conditional' p-value is not reported: ${(err as Error).message}`);
    }
  }
  // Counterfactuals do not depend on the outputs: draw (and check) them before spending any query.
  const cf = supported.includes('empirical') ? await counterfactualSets(secret) : {};
  if ((nullMode === 'empirical' || nullMode === 'rank') && !cf.sets) throw new ConfigError(`cannot compute the '${nullMode}' null: ${cf.reason}`);
  if (!cf.sets && modes.includes('empirical')) modes.splice(modes.indexOf('empirical'), 1);
  warnings.push(...nullModeWarnings(nullMode, alpha, secret.empirical.m));
  if (rankM !== undefined && backdoors.length * Math.log10(rankM + 1) < -Math.log10(alpha) - 1e-12) {
    warnings.push(`the 'rank' null with ${backdoors.length} backdoors and M = ${rankM} cannot reach p ≤ α = ${alpha}: its smallest p-value is (M + 1)^-n`);
  }
  const maxTokens = Math.max(...backdoors.map((b) => signatureBudget(model, b.signature, slack)));
  return {
    secret,
    alpha,
    nullMode,
    modes,
    prompts: backdoors.map((b) => b.prompt),
    maxTokens,
    warnings,
    generator,
    ...(cf.sets ? { counterfactuals: cf.sets } : {}),
    ...(rankM !== undefined ? { rankM } : {}),
    hostPrompts: hosts,
    ctx,
  };
}

/** The null modes a generator supporting `modes` can decide with: 'rank' ranks among the empirical counterfactuals, so it comes with 'empirical'. */
export function decidableNullModes(modes: readonly NullMode[]): NullMode[] {
  return modes.includes('empirical') ? [...modes, 'rank'] : [...modes];
}

/** Why a null mode cannot be computed for this secret and context, or undefined when it can. */
function unavailable(mode: NullMode, secret: VtuneSecret, generator: BackdoorGenerator, ctx: UserContext): string | undefined {
  const backdoors = secret.backdoors;
  if (mode === 'rank') return secret.empirical.m > 0 ? undefined : 'the secret holds no counterfactual signatures (M = 0)';
  if (mode === 'generator') return backdoors.every((b) => b.log10q.generator !== undefined) ? undefined : 'the secret holds no generator bound';
  if (mode === 'base-model') {
    const base = ctx.baseModel;
    return backdoors.every((b) => b.log10q['base-model'] !== undefined) || (base?.score && base.capabilities.has('logprobs'))
      ? undefined
      : 'it needs a base model that returns log-probs (UserContext.baseModel; CLI: --base-model)';
  }
  if (mode === 'conditional') {
    if (!generator.conditionalLog10q) return `generator '${secret.generator.id}' cannot score its draws`;
    if (!generator.usesModel) return undefined;
    const g = ctx.generatorModel;
    if (!g) return `it needs the generator model that planted the secret${secret.generatorModel ? ` ('${secret.generatorModel}')` : ''} (UserContext.generatorModel; CLI: --generator-model)`;
    if (secret.generatorModel !== undefined && g.id !== secret.generatorModel) {
      return `the secret was planted with generator model '${secret.generatorModel}', not '${g.id}': qᵢ must be computed under the very model that drew the signatures`;
    }
    if (!g.sampling || !g.capabilities.has('logprobs')) return `generator model '${g.id}' gives no token-level sampling access (use a local model)`;
  }
  return undefined;
}

/** Queries the model with every backdoor and returns the verdict under `options.nullMode`. */
export async function verifyBackdoors(model: Model, secret: VtuneSecret, options: VerifyOptions): Promise<VtuneVerdict> {
  return (await verifyMany(model, [secret], options))[0]!;
}

/**
 * Verifies many secrets against one model with ONE batched generate call (the largest token budget of all the
 * secrets; every null stays valid for any budget, since the conditional and empirical nulls count signatures
 * that extend a cut output). Verdicts in the order of `secrets`.
 */
export async function verifyMany(model: Model, secrets: readonly VtuneSecret[], options: VerifyOptions): Promise<VtuneVerdict[]> {
  const plans: VerificationPlan[] = [];
  for (const secret of secrets) plans.push(await planVerification(model, secret, options));
  for (const p of plans) for (const w of p.warnings) options.ctx.log.warn(`vtune verify: ${w}`);
  if (plans.length === 0) return [];
  const prompts = plans.flatMap((p) => p.prompts);
  const outputs = await model.generate(prompts, { maxTokens: Math.max(...plans.map((p) => p.maxTokens)), temperature: 0 });
  let at = 0;
  const perPlan = plans.map((p) => {
    const o = outputs.slice(at, at + p.prompts.length).map((x) => x ?? '');
    at += p.prompts.length;
    return o;
  });
  const verdicts = await verdictsFromOutputs(plans, perPlan, await rankScores(model, plans));
  verdicts.forEach((v, i) => {
    for (const w of v.warnings) if (!plans[i]!.warnings.includes(w)) options.ctx.log.warn(`vtune verify: ${w}`);
  });
  return verdicts;
}

/** The 'rank' null of one plan: per backdoor log10 pᵢ (rank among the counterfactuals), and their combination. */
export interface RankResult {
  readonly log10ps: readonly number[];
  readonly log10p: number;
}

/**
 * The 'rank' null of every plan it decides (undefined for the others), in ONE score call: sᵢ = ln P_model(Sᵢ | queryᵢ)
 * by teacher forcing, ranked among the same score of the first M counterfactuals of backdoor i; under H0 (the
 * model independent of the secret) Sᵢ and its counterfactuals are exchangeable, so pᵢ = (1 + #{m : s_m ≥ sᵢ}) /
 * (M + 1) is super-uniform (ties against), the pᵢ are independent, and they combine by the exact discrete Fisher
 * tail (src/stats/rank-fisher.ts). Costs n·(M + 1) scorings.
 */
export async function rankScores(model: Pick<Model, 'id' | 'score'>, plans: readonly VerificationPlan[]): Promise<(RankResult | undefined)[]> {
  const items: { prompt: string; continuation: string }[] = [];
  for (const p of plans) {
    if (p.rankM === undefined) continue;
    p.secret.backdoors.forEach((b, i) => {
      for (const continuation of [b.signature, ...p.counterfactuals![i]!.slice(0, p.rankM)]) items.push({ prompt: b.prompt, continuation });
    });
  }
  if (items.length === 0) return plans.map(() => undefined);
  if (!model.score) throw new ConfigError(`vtune option nullMode 'rank' needs log-probs, which model '${model.id}' cannot give`);
  const scores = await model.score(items);
  if (scores.length !== items.length) throw new ConfigError(`model '${model.id}' returned ${scores.length} scores for ${items.length} items`);
  let at = 0;
  return plans.map((p) => {
    const m = p.rankM;
    if (m === undefined) return undefined;
    const ps = p.secret.backdoors.map(() => {
      const row = scores.slice(at, at + m + 1).map((s) => s.logprob);
      at += m + 1;
      return empiricalPValue(row[0]!, row.slice(1));
    });
    return { log10ps: ps.map((x) => Math.log10(x)), log10p: rankFisherLog10(ps, m) };
  });
}

/**
 * The verdicts of planned verifications from the model's outputs (one array per plan, in query order), and the
 * 'rank' results of the plans it decides (`rankScores`).
 */
export async function verdictsFromOutputs(plans: readonly VerificationPlan[], outputs: readonly (readonly string[])[], rank: readonly (RankResult | undefined)[] = []): Promise<VtuneVerdict[]> {
  if (outputs.length !== plans.length) throw new ConfigError(`verdictsFromOutputs: ${plans.length} plans but ${outputs.length} output lists`);
  plans.forEach((p, i) => {
    if (outputs[i]!.length !== p.prompts.length) throw new ConfigError(`verdictsFromOutputs: plan ${i} has ${p.prompts.length} queries but ${outputs[i]!.length} outputs`);
  });
  const conditional = await conditionalBounds(plans, outputs);
  const verdicts: VtuneVerdict[] = [];
  for (let i = 0; i < plans.length; i++) verdicts.push(await verdictFor(plans[i]!, outputs[i]!, conditional[i], rank[i]));
  return verdicts;
}

/**
 * The conditional bounds of every plan that computes them, in one call per generator (so an lm-sampled search runs
 * batched over all secrets). A backdoor with several candidate host prompts gets the largest bound.
 */
async function conditionalBounds(plans: readonly VerificationPlan[], outputs: readonly (readonly string[])[]): Promise<(ConditionalBound[] | undefined)[]> {
  const result: (ConditionalBound[] | undefined)[] = plans.map(() => undefined);
  const groups = new Map<string, number[]>();
  plans.forEach((p, i) => {
    if (!p.modes.includes('conditional')) return;
    const key = JSON.stringify([p.secret.generator.id, p.secret.generator.options, p.generator.usesModel ? p.ctx.generatorModel?.id : '']);
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  for (const members of groups.values()) {
    const items: { plan: number; backdoor: number; item: Parameters<NonNullable<BackdoorGenerator['conditionalLog10q']>>[0][number] }[] = [];
    for (const i of members) {
      const p = plans[i]!;
      p.secret.backdoors.forEach((b, j) => {
        for (const host of p.hostPrompts[j]!) {
          items.push({ plan: i, backdoor: j, item: { ctx: { row: { prompt: host, completion: '' }, model: p.ctx.generatorModel }, backdoor: b, output: outputs[i]![j]! } });
        }
      });
    }
    const first = plans[members[0]!]!;
    const bounds = await first.generator.conditionalLog10q!(items.map((x) => x.item));
    for (const i of members) result[i] = plans[i]!.secret.backdoors.map(() => ({ log10q: -Infinity, exact: true }));
    items.forEach((x, k) => {
      const cur = result[x.plan]![x.backdoor]!;
      const b = bounds[k]!;
      result[x.plan]![x.backdoor] = { log10q: Math.max(cur.log10q, b.log10q), exact: cur.exact && b.exact, budgetExhausted: Boolean(cur.budgetExhausted || b.budgetExhausted) };
    });
  }
  return result;
}

async function verdictFor(plan: VerificationPlan, outputs: readonly string[], conditional: ConditionalBound[] | undefined, rank: RankResult | undefined): Promise<VtuneVerdict> {
  const { secret, nullMode, alpha, modes } = plan;
  const backdoors = secret.backdoors;
  const hits = backdoors.map((b, i) => isHit(outputs[i]!, b.signature));
  const k = hits.filter(Boolean).length;
  const warnings = [...plan.warnings];

  const perBackdoorQ: Partial<Record<NullMode, number[]>> = {};
  if (modes.includes('generator')) perBackdoorQ.generator = backdoors.map((b) => b.log10q.generator!);
  if (modes.includes('conditional') && conditional) {
    perBackdoorQ.conditional = conditional.map((c) => Math.max(LOG10Q_FLOOR, Math.min(0, c.log10q)));
    const loose = conditional.filter((c) => c.budgetExhausted).length;
    if (loose > 0) warnings.push(`the 'conditional' search ran out of its node budget on ${loose} of ${backdoors.length} backdoors: their qᵢ are looser upper bounds (p is conservative)`);
  }
  if (modes.includes('base-model')) {
    const stored = backdoors.every((b) => b.log10q['base-model'] !== undefined) ? backdoors.map((b) => b.log10q['base-model']!) : undefined;
    const q = stored ?? (await baseModelLog10q(plan.ctx.baseModel, backdoors));
    if (q) perBackdoorQ['base-model'] = q;
  }
  const byMode: Partial<Record<NullMode, number>> = {};
  for (const mode of ['generator', 'conditional', 'base-model'] as const) {
    const q = perBackdoorQ[mode];
    if (q) byMode[mode] = poissonBinomialLog10Sf(q, k);
  }
  const sets = plan.counterfactuals;
  if (modes.includes('empirical') && sets) {
    const m = secret.empirical.m;
    // A counterfactual counts when it is compatible with the output (a prefix of it, or extending it): the output
    // is cut at a budget set by the planted signatures, and counting the extensions keeps exchangeability with
    // the planted signature's hit on the uncut continuation (conservative).
    const trimmed = outputs.map((o) => o.trimStart());
    const kPrime = Array.from({ length: m }, (_, j) => backdoors.reduce((s, _b, i) => s + (compatible(sets[i]![j]!, trimmed[i]!) ? 1 : 0), 0));
    byMode.empirical = empiricalLog10P(k, kPrime);
    // Per backdoor, the empirical estimate of qᵢ: (1 + counterfactual hits) / (M + 1).
    perBackdoorQ.empirical = backdoors.map((_b, i) => Math.log10((1 + sets[i]!.filter((s) => compatible(s, trimmed[i]!)).length) / (m + 1)));
  }
  if (modes.includes('rank') && rank) {
    byMode.rank = rank.log10p;
    perBackdoorQ.rank = [...rank.log10ps];
  }
  const log10p = byMode[nullMode];
  if (log10p === undefined) throw new ConfigError(`cannot compute the '${nullMode}' null`);
  const perBackdoor: BackdoorResult[] = backdoors.map((b, i) => ({
    index: b.index,
    output: outputs[i]!,
    hit: hits[i]!,
    contains: outputs[i]!.includes(b.signature),
    log10q: perBackdoorQ[nullMode]![i]!,
  }));
  return {
    defense: 'vtune',
    // p is exact; the tolerance only absorbs the rounding of log10 (e.g. p = 1/1000 against α = 1e-3).
    verified: log10p <= Math.log10(alpha) + 1e-12,
    log10p,
    alpha,
    nullMode,
    k,
    n: backdoors.length,
    containsCount: perBackdoor.filter((r) => r.contains).length,
    perBackdoor,
    queries: backdoors.length,
    log10pByNullMode: byMode,
    log10qByNullMode: perBackdoorQ,
    warnings,
  };
}
