/**
 * The row-scorer contract as a library (STYLE.md rule 7), used by test/attacks/scorers/contract.test.ts and
 * `vtune-bench check <module>`. A scorer must:
 * - declare: its id, a non-empty access list of known capabilities, `yieldsSpans`, and refuse an unknown
 *   option with a ConfigError naming it;
 * - answer in shape: one finite-or-infinite (never NaN) score and one flag per row, spans per row if any;
 * - be pure: the rows it scores are deep-frozen and unchanged afterwards;
 * - be seeded: the same rows and stream give the same answer, and it never calls Math.random;
 * - stay behind the barrier: used by `detect-then-filter` in a real cell, nothing it receives leads to the
 *   secret or the mask (the attack rules' walker; see src/check/attack.ts).
 */
import type { AttackFactory } from '../../attacks/compose.js';
import { attacks } from '../../attacks/index.js';
import type { RowScorerFactory } from '../../attacks/scorers/types.js';
import { ConfigError, describeError } from '../errors.js';
import type { ProviderContext, Row } from '../types.js';
import { barrierViolations, type Captured, instrumentAttack, runCellWithAttack, standardAttackSetup } from './attack.js';
import { type RuleResult, Verdicts } from './types.js';
import { deepFreeze, firstDifference, isFrozenWrite, snapshot, withoutMathRandom } from './walk.js';

const ACCESS = ['data', 'logprobs', 'weights', 'generate', 'embed'];

/** What the scorer rules score. */
export interface ScorerCheckEnv {
  /** Planted rows to score. */
  readonly rows: readonly Row[];
  /** A fresh provider context seeded by `seed` (the same seed must give an identical context). */
  context(seed: string): ProviderContext | Promise<ProviderContext>;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Run the barrier rule (a whole cell; needs the scorer in the registry). Default true. */
  readonly barrier?: boolean;
}

/** Runs every scorer rule on `factory` (registered as `id`). */
export async function checkScorer(id: string, factory: RowScorerFactory, env: ScorerCheckEnv): Promise<RuleResult[]> {
  const v = new Verdicts('scorer', id);
  const options = env.options ?? {};
  let scorer;
  try {
    scorer = factory(options);
  } catch (err) {
    v.fail('declares', `the factory refused ${JSON.stringify(options)}: ${describeError(err)}`);
    return v.results;
  }
  const declared: string[] = [];
  if (scorer.id !== id) declared.push(`its id is '${scorer.id}', but it is registered as '${id}'`);
  if (!Array.isArray(scorer.access) || scorer.access.length === 0) declared.push('declares no access');
  else for (const a of scorer.access) if (!ACCESS.includes(a)) declared.push(`unknown access ${JSON.stringify(a)}`);
  if (typeof scorer.yieldsSpans !== 'boolean') declared.push('yieldsSpans must be true or false');
  try {
    factory({ ...options, noSuchOption__: 1 });
    declared.push("the factory accepts an unknown option ('noSuchOption__') instead of a ConfigError");
  } catch (err) {
    if (!(err instanceof ConfigError)) declared.push(`an unknown option raised ${describeError(err)}, not a ConfigError`);
    else if (!/noSuchOption__/.test(err.message)) declared.push(`the ConfigError for an unknown option does not name it: ${err.message}`);
  }
  v.judge('declares', declared, `access [${scorer.access.join(', ')}], yieldsSpans ${scorer.yieldsSpans}, option validation`);

  // A scorer needing what the check's model cannot give (embeddings of test-memorizer) is not at fault.
  const probeCtx = await env.context('seed-1');
  const missing = scorer.access.filter((a) => (a === 'embed' && !probeCtx.base.embed) || (a === 'logprobs' && !probeCtx.base.score) || a === 'weights');
  if (missing.length > 0) {
    for (const rule of ['purity', 'seeding', 'shape'] as const) v.skip(rule, `the check's model '${probeCtx.base.id}' cannot give ${missing.join(', ')}`);
  } else await scoreRules(v, factory, options, env);
  if (env.barrier === false) v.skip('barrier', 'not run here');
  else v.results.push(...(await scorerBarrier(id, options)));
  return v.results;
}

/** The purity, shape and seeding rules: the scorer is run three times on the env's rows. */
async function scoreRules(v: Verdicts, factory: RowScorerFactory, options: Readonly<Record<string, unknown>>, env: ScorerCheckEnv): Promise<void> {
  const input = deepFreeze(snapshot(env.rows) as Row[]);
  const run = await withoutMathRandom(async () => {
    const a = await factory(options).score(input, await env.context('seed-1'));
    const b = await factory(options).score(input, await env.context('seed-1'));
    return { a, b };
  });
  if (run.error !== undefined) {
    if (isFrozenWrite(run.error)) v.fail('purity', `score wrote to its frozen rows (${(run.error as Error).message})`);
    else if (run.mathRandomCalls > 0) v.fail('seeding', `called Math.random ${run.mathRandomCalls} time(s): draw from ctx.rng, the seeded stream`);
    for (const rule of ['purity', 'seeding', 'shape'] as const) if (!v.has(rule)) v.fail(rule, `scoring failed, so this rule could not be judged: ${describeError(run.error)}`);
  } else {
    const { a, b } = run.value!;
    const copy = snapshot(env.rows) as Row[];
    await factory(options).score(copy, await env.context('seed-1'));
    const changed = firstDifference(snapshot(env.rows), copy);
    v.judge('purity', changed ? [`score changed its rows at ${changed}`] : [], 'scored deep-frozen rows; an unfrozen copy was unchanged');
    const n = env.rows.length;
    const shape: string[] = [];
    if (a.scores.length !== n) shape.push(`${a.scores.length} scores for ${n} rows`);
    if (a.flagged.length !== n) shape.push(`${a.flagged.length} flags for ${n} rows`);
    if (a.spans && a.spans.length !== n) shape.push(`spans for ${a.spans.length} of ${n} rows`);
    // NaN is allowed only when the scorer says it could not really score (`unavailable`, e.g. a silent judge).
    if (!a.scores.every((s) => typeof s === 'number' && (!Number.isNaN(s) || a.unavailable !== undefined))) shape.push('a score is NaN or not a number (and the answer gives no `unavailable` reason)');
    if (!a.flagged.every((f) => typeof f === 'boolean')) shape.push('a flag is not true or false');
    v.judge('shape', shape, `one score and flag for each of ${n} rows${a.unavailable ? ` (scores unavailable: ${a.unavailable})` : ''}`);
    const diff = firstDifference(snapshot(a), snapshot(b));
    const seeding = diff ? [`the same rows and stream gave different answers (first at ${diff})`] : [];
    if (run.mathRandomCalls > 0) seeding.push(`called Math.random ${run.mathRandomCalls} time(s)`);
    v.judge('seeding', seeding, 'same rows and stream → same answer; no Math.random');
  }
}

/**
 * The barrier rule of a scorer: one cell of `detect-then-filter` with this scorer (it must be registered) on
 * the real vtune defense × qa × test-memorizer (a TEST DOUBLE); what the data hook hands the scorer is walked.
 */
export async function scorerBarrier(id: string, scorerOptions: Readonly<Record<string, unknown>>): Promise<RuleResult[]> {
  const v = new Verdicts('scorer', id);
  const setup = standardAttackSetup();
  const captured: Captured = {};
  const attackOptions = { scorer: id, ...(Object.keys(scorerOptions).length > 0 ? { scorerOptions } : {}) };
  let probe;
  try {
    probe = instrumentAttack((attacks.get('detect-then-filter') as AttackFactory)(attackOptions));
    await runCellWithAttack(setup.spec('detect-then-filter', attackOptions, 5), setup.deps(captured), probe.attack);
  } catch (err) {
    const reason = describeError(err);
    if (err instanceof ConfigError && /needs '.*' access/.test(reason)) v.skip('barrier', `the check's provider cannot run this scorer: ${reason}`);
    else v.fail('barrier', `a detect-then-filter cell with it failed: ${reason}`);
    return v.results;
  }
  v.judge('barrier', barrierViolations(probe.args, { secret: captured.secret, mask: captured.mask }, false), 'a detect-then-filter cell handed it no secret, backdoor or mask');
  return v.results;
}
