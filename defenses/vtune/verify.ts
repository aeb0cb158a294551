/**
 * Verification (vTune step 2, DESIGN.md §3): send each backdoor's query to the returned model (greedy, max
 * tokens = signature tokens + slack), count K = exact prefix hits after trimming leading whitespace (and a
 * `contains` count), and turn K into log10 p under the chosen null mode. The p-value of every other mode the
 * secret supports is computed from the same outputs (no extra queries), so the benchmark can measure each
 * mode's Type-I error — the `base-model` mode in particular is only valid when the generator is no sharper than
 * the base model, which the benchmark measures rather than assumes.
 */
import { ConfigError } from '../../src/errors.js';
import { empiricalLog10P } from '../../src/stats/empirical.js';
import { poissonBinomialLog10Sf } from '../../src/stats/poisson-binomial.js';
import type { Rng } from '../../src/rng.js';
import type { BackdoorResult, Model, NullMode, UserContext, Verdict } from '../../src/types.js';
import { generators } from './generators/index.js';
import { backdoorStream, baseModelLog10q, counterfactualStream } from './plant.js';
import type { VtuneSecret } from './secret.js';

/** Verification options. */
export interface VerifyOptions {
  readonly alpha: number;
  readonly nullMode: NullMode;
  /** Extra tokens allowed beyond the signature's length. */
  readonly slack: number;
  readonly ctx: UserContext;
}

/** A vTune verdict, with the p-value under every null mode the secret supports (same outputs). */
export interface VtuneVerdict extends Verdict {
  readonly log10pByNullMode: Partial<Record<NullMode, number>>;
  /** Caveats on this p-value's validity or reach (also logged as warnings): never left to silence. */
  readonly warnings: readonly string[];
}

/** Why the chosen null's p-value may mislead, stated with the verdict (DESIGN.md §3). */
export function nullModeWarnings(nullMode: NullMode, alpha: number, empiricalM: number): string[] {
  const out: string[] = [];
  if (nullMode === 'base-model') {
    out.push(
      "the 'base-model' null is not guaranteed valid: qᵢ = P_base(Sᵢ | query) bounds the hit chance of an untrained model only when the generator " +
        'is no sharper than the base model (e.g. the base model itself at temperature ≥ 1); otherwise p is anti-conservative. ' +
        "Its Type-I error is measured by the benchmark, not assumed; prefer the 'generator' or 'empirical' null (DESIGN.md §3)",
    );
  }
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
export function signatureBudget(model: Model, signature: string, slack: number): number {
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

/** Queries the model with every backdoor and returns the verdict under `options.nullMode`. */
export async function verifyBackdoors(model: Model, secret: VtuneSecret, options: VerifyOptions): Promise<VtuneVerdict> {
  const { alpha, nullMode, slack } = options;
  if (!(alpha > 0 && alpha < 1)) throw new ConfigError(`alpha must be in (0, 1), got ${alpha}`);
  if (!secret.nullModes.includes(nullMode)) {
    throw new ConfigError(`null mode '${nullMode}' is not valid for generator '${secret.generator.id}'; it supports: ${secret.nullModes.join(', ')}`);
  }
  if (!model.capabilities.has('generate')) throw new ConfigError(`model '${model.id}' cannot generate, so it cannot be verified`);
  const backdoors = secret.backdoors;
  // Check the chosen null can be computed before spending any (possibly paid) query.
  const base = options.ctx.baseModel;
  const unavailable =
    nullMode === 'generator' && !backdoors.every((b) => b.log10q.generator !== undefined)
      ? 'the secret holds no generator bound'
      : nullMode === 'base-model' && !backdoors.every((b) => b.log10q['base-model'] !== undefined) && !(base?.score && base.capabilities.has('logprobs'))
        ? 'it needs a base model that returns log-probs (UserContext.baseModel; CLI: --base-model)'
        : undefined;
  if (unavailable) throw new ConfigError(`cannot compute the '${nullMode}' null: ${unavailable}`);
  // Counterfactuals do not depend on the outputs: draw (and check) them before spending any query.
  const counterfactuals = secret.nullModes.includes('empirical') ? await counterfactualSets(secret) : {};
  if (nullMode === 'empirical' && !counterfactuals.sets) throw new ConfigError(`cannot compute the 'empirical' null: ${counterfactuals.reason}`);
  const warnings = nullModeWarnings(nullMode, alpha, secret.empirical.m);
  for (const w of warnings) options.ctx.log.warn(`vtune verify: ${w}`);
  const maxTokens = Math.max(...backdoors.map((b) => signatureBudget(model, b.signature, slack)));
  const outputs = await model.generate(backdoors.map((b) => b.prompt), { maxTokens, temperature: 0 });
  const hits = backdoors.map((b, i) => isHit(outputs[i] ?? '', b.signature));
  const k = hits.filter(Boolean).length;

  const byMode: Partial<Record<NullMode, number>> = {};
  const perBackdoorQ: Partial<Record<NullMode, number[]>> = {};
  if (backdoors.every((b) => b.log10q.generator !== undefined)) {
    perBackdoorQ.generator = backdoors.map((b) => b.log10q.generator!);
  }
  if (secret.nullModes.includes('base-model')) {
    const stored = backdoors.every((b) => b.log10q['base-model'] !== undefined) ? backdoors.map((b) => b.log10q['base-model']!) : undefined;
    perBackdoorQ['base-model'] = stored ?? (await baseModelLog10q(options.ctx.baseModel, backdoors));
  }
  for (const mode of ['generator', 'base-model'] as const) {
    const q = perBackdoorQ[mode];
    if (q && secret.nullModes.includes(mode)) byMode[mode] = poissonBinomialLog10Sf(q, k);
  }
  if (secret.nullModes.includes('empirical')) {
    const sets = counterfactuals.sets;
    if (sets) {
      const m = secret.empirical.m;
      const kPrime = Array.from({ length: m }, (_, j) => backdoors.reduce((s, _b, i) => s + (isHit(outputs[i] ?? '', sets[i]![j]!) ? 1 : 0), 0));
      byMode.empirical = empiricalLog10P(k, kPrime);
      // Per backdoor, the empirical estimate of qᵢ: (1 + counterfactual hits) / (M + 1).
      perBackdoorQ.empirical = backdoors.map((_b, i) => Math.log10((1 + sets[i]!.filter((s) => isHit(outputs[i] ?? '', s)).length) / (m + 1)));
    }
  }
  const log10p = byMode[nullMode];
  if (log10p === undefined) throw new ConfigError(`cannot compute the '${nullMode}' null`);
  const perBackdoor: BackdoorResult[] = backdoors.map((b, i) => ({
    index: b.index,
    output: outputs[i] ?? '',
    hit: hits[i]!,
    contains: (outputs[i] ?? '').includes(b.signature),
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
    warnings,
  };
}
