/**
 * The backdoor-generator contract as a library (STYLE.md rule 7), used by
 * test/defenses/vtune/generators/contract.test.ts and `vtune-bench check <module>`. A generator must:
 * - declare: its id, at least one null mode, serialisable options free of keys that rebuild it, and refuse an
 *   unknown option with a ConfigError;
 * - be seeded: the same stream gives the same draw and counterfactuals, different streams (or, keyed, backdoor
 *   indices) give different signatures, and it never calls Math.random;
 * - be pure: the host row and the dataset it draws from are deep-frozen and unchanged afterwards;
 * - draw plain text (non-empty, trimmed, no control characters or double spaces) and m counterfactuals;
 * - state a `generator` bound exactly when it claims that null mode, and a `conditional` score exactly when it
 *   claims that one;
 * - stay on the user side (the barrier): a cell planted with it never hands the generator, its options or the
 *   secret to the provider side (run through the attack rules' walker with the `honest` attack).
 */
import { attacks } from '../../attacks/index.js';
import type { AttackFactory } from '../../attacks/compose.js';
import type { BackdoorGenerator, DrawContext, GeneratorFactory } from '../../defenses/vtune/generators/types.js';
import { ConfigError, describeError } from '../errors.js';
import { Rng } from '../rng.js';
import type { Model, Row } from '../types.js';
import { barrierViolations, type Captured, instrumentAttack, runCellWithAttack, standardAttackSetup } from './attack.js';
import { type RuleResult, Verdicts } from './types.js';
import { deepFreeze, firstDifference, isFrozenWrite, snapshot, withoutMathRandom } from './walk.js';

/** What the generator rules draw against. */
export interface GeneratorCheckEnv {
  /** The user's dataset (the host rows). */
  readonly rows: readonly Row[];
  /** The user-side generator model (lm-sampled and the like draw from it). */
  readonly model?: Model;
  /** A model with token-level `sampling` access, to score a model-based generator's conditional bound. */
  readonly scoringModel?: Model;
  /** Options every build of the generator needs (keyed: its key), and texts that must not appear in its recorded options. */
  readonly options?: Readonly<Record<string, unknown>>;
  readonly secretTexts?: readonly string[];
  /** Run the barrier rule (a whole cell through vtune; needs the generator in the registry). Default true. */
  readonly barrier?: boolean;
  /** The built-in dataset the barrier rule's cell plants on (default 'stories'; a generator that hosts only on worked arithmetic needs 'math'). */
  readonly barrierDataset?: string;
}

const plainText = (s: string): boolean => s.length > 0 && s === s.trim() && !/\s\s|[\u0000-\u001f]/.test(s);

/** Runs every generator rule on `factory` (registered as `id`). */
export async function checkGenerator(id: string, factory: GeneratorFactory, env: GeneratorCheckEnv): Promise<RuleResult[]> {
  const v = new Verdicts('generator', id);
  const base = env.options ?? {};
  const rows = env.rows;
  // A generator that refuses some hosts (cannotHost) is drawn on the rows it accepts, as plant would.
  let hostable: readonly number[] | undefined;
  const ctx = (seed: string, index = 0, rowIndex = 3, over: readonly Row[] = rows): DrawContext => {
    const at = hostable && hostable.length > 0 ? hostable[rowIndex % hostable.length]! : rowIndex % over.length;
    return { rng: new Rng(seed), index, row: over[at]!, rowIndex: at, rows: over, ...(env.model ? { model: env.model } : {}) };
  };

  let g: BackdoorGenerator;
  try {
    g = factory({ ...base });
  } catch (err) {
    v.fail('declares', `the factory refused ${JSON.stringify(base)}: ${describeError(err)}`);
    return v.results;
  }

  if (g.cannotHost) {
    const accepts = rows.flatMap((r, i) => (g.cannotHost!(r, rows) === undefined ? [i] : []));
    if (accepts.length < rows.length) hostable = accepts;
  }

  // ── declares ──
  const declared: string[] = [];
  if (g.id !== id) declared.push(`its id is '${g.id}', but it is registered as '${id}'`);
  if (!Array.isArray(g.nullModes) || g.nullModes.length === 0) declared.push('declares no null mode');
  if (!['seed', 'stored'].includes(g.counterfactualSource)) declared.push(`counterfactualSource ${JSON.stringify(g.counterfactualSource)} is not 'seed' or 'stored'`);
  let serialised: unknown;
  try {
    serialised = JSON.parse(JSON.stringify(g.options));
  } catch (err) {
    declared.push(`its recorded options are not JSON: ${describeError(err)}`);
  }
  if (serialised !== undefined && firstDifference(serialised, snapshot(g.options))) declared.push(`its recorded options change through JSON (at ${firstDifference(serialised, snapshot(g.options))})`);
  for (const t of env.secretTexts ?? []) if (JSON.stringify(g.options).includes(t)) declared.push('its recorded options contain a key');
  try {
    const again = factory({ ...g.options });
    if (firstDifference(again.nullModes, g.nullModes) || firstDifference(snapshot(again.options), snapshot(g.options))) declared.push('rebuilt from its recorded options, it declares other null modes or options');
  } catch (err) {
    declared.push(`it cannot be rebuilt from its recorded options: ${describeError(err)}`);
  }
  try {
    factory({ ...base, noSuchOption__: 1 });
    declared.push("the factory accepts an unknown option ('noSuchOption__') instead of a ConfigError");
  } catch (err) {
    if (!(err instanceof ConfigError)) declared.push(`an unknown option raised ${describeError(err)}, not a ConfigError`);
  }
  v.judge('declares', declared, `null modes [${g.nullModes.join(', ')}], counterfactuals '${g.counterfactualSource}', options rebuild and validate`);

  // ── purity: draws over a frozen dataset, then over a copy compared afterwards ──
  const purity: string[] = [];
  const frozenRows = deepFreeze(snapshot(rows) as Row[]);
  try {
    const c = ctx('purity', 1, 2, frozenRows);
    const b = await g.draw(c);
    await g.counterfactuals(ctx('purity-cf', 1, 2, frozenRows), b, 3);
  } catch (err) {
    if (isFrozenWrite(err)) purity.push(`draw wrote to the frozen dataset (${(err as Error).message})`);
    else {
      // Not a purity problem: the generator cannot draw on this data at all, so no draw rule can be judged.
      for (const rule of ['purity', 'seeding', 'shape', 'bound', 'barrier'] as const) v.fail(rule, `drawing failed on the check's dataset: ${describeError(err)}`);
      return v.results;
    }
  }
  const copy = snapshot(rows) as Row[];
  try {
    const b = await g.draw(ctx('purity', 1, 2, copy));
    await g.counterfactuals(ctx('purity-cf', 1, 2, copy), b, 3);
    const changed = firstDifference(snapshot(rows), copy);
    if (changed) purity.push(`draw changed the dataset at rows${changed.startsWith('[') ? '' : '.'}${changed}`);
  } catch {
    /* reported by the frozen run */
  }
  v.judge('purity', purity, 'drew over a deep-frozen dataset; an unfrozen copy was unchanged');
  if (purity.length > 0) return v.results;

  // ── seeding ──
  const seeded = await withoutMathRandom(async () => {
    const problems: string[] = [];
    const a = await g.draw(ctx('s1'));
    const b = await g.draw(ctx('s1'));
    if (firstDifference(snapshot(a), snapshot(b))) problems.push('the same stream drew two different backdoors');
    const cfA = await g.counterfactuals(ctx('c1'), a, 5);
    const cfB = await g.counterfactuals(ctx('c1'), a, 5);
    if (firstDifference(cfA, cfB)) problems.push('the same stream drew different counterfactuals');
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) seen.add((await g.draw(ctx(`vary${i}`, i, (i * 5) % rows.length))).signature);
    if (seen.size < 2) problems.push('8 different streams, indices and host rows all drew the same signature');
    return problems;
  });
  const seeding = seeded.value ?? [`drawing failed: ${describeError(seeded.error)}`];
  if (seeded.mathRandomCalls > 0) seeding.unshift(`called Math.random ${seeded.mathRandomCalls} time(s): draw from ctx.rng, the seeded stream`);
  v.judge('seeding', seeding, 'same stream → same draw and counterfactuals; different streams → different signatures; no Math.random');

  // ── shape: plain text and m counterfactuals ──
  const shape: string[] = [];
  let noTrigger = false;
  try {
    for (let i = 0; i < 5; i++) {
      const { trigger, signature } = await g.draw(ctx(`txt${i}`, i, i));
      if (trigger === '') noTrigger = true;
      for (const [name, s] of [['trigger', trigger], ['signature', signature]] as const) {
        // An empty trigger is allowed: the backdoor is then its rewritten host row (in-place), queried by its prompt.
        if (typeof s !== 'string' || (!plainText(s) && !(name === 'trigger' && s === ''))) shape.push(`${name} ${JSON.stringify(s)} is not plain, trimmed, single-spaced text`);
      }
    }
    const b = await g.draw(ctx('cf'));
    const cf = await g.counterfactuals(ctx('cf-stream'), b, 20);
    if (!Array.isArray(cf) || cf.length !== 20) shape.push(`asked for 20 counterfactuals, got ${Array.isArray(cf) ? cf.length : typeof cf}`);
    else if (cf.some((s) => typeof s !== 'string' || s.length === 0)) shape.push('a counterfactual signature is empty');
  } catch (err) {
    shape.push(`drawing failed: ${describeError(err)}`);
  }
  v.judge('shape', [...new Set(shape)], 'plain-text triggers and signatures; 20 counterfactuals when asked for 20');

  // ── bound ──
  const bound: string[] = [];
  if (g.nullModes.includes('generator') !== (typeof g.log10q === 'function')) bound.push("a log10q bound must exist exactly when it claims the 'generator' null mode");
  if (g.nullModes.includes('conditional') !== (typeof g.conditionalLog10q === 'function')) bound.push("a conditionalLog10q score must exist exactly when it claims the 'conditional' null mode");
  try {
    if (g.log10q) {
      const c = ctx('q');
      const q = g.log10q(c, await g.draw(c));
      if (!(Number.isFinite(q) && q <= 0)) bound.push(`log10q gave ${q}, not a finite number ≤ 0`);
      if (g.boundFromOptions) {
        const b = await g.draw(c);
        const again = factory({ ...g.options });
        if (again.boundFromOptions!(b) !== g.log10q(c, b)) bound.push('boundFromOptions disagrees with log10q');
      }
    }
    const scorer = g.usesModel ? env.scoringModel : (env.scoringModel ?? env.model);
    if (g.conditionalLog10q && scorer) {
      const c = { ...ctx('cond'), model: scorer };
      const b = await g.draw(c);
      const [own, other] = await g.conditionalLog10q([
        { ctx: c, backdoor: b, output: `  ${b.signature} and more` },
        { ctx: c, backdoor: b, output: '\u2603\u2603 nothing a generator draws' },
      ]);
      if (!own || !(own.log10q <= 0 && own.log10q > -Infinity)) bound.push(`the conditional q of its own signature is ${own?.log10q}, not in (0, 1]`);
      if (!other || !(other.log10q < own!.log10q)) bound.push('an output it never draws scores no lower than its own signature');
    }
  } catch (err) {
    bound.push(`computing the bound failed: ${describeError(err)}`);
  }
  v.judge('bound', bound, `a bound exactly for the modes it claims (${g.nullModes.join(', ')})`);

  // ── barrier: a whole cell planted with this generator ──
  if (env.barrier === false) v.skip('barrier', 'not run here');
  // A generator without triggers rewrites its hosts, so plant needs insertion 'modify' for it.
  else v.results.push(...(await generatorBarrier(id, base, noTrigger ? 'modify' : undefined, env.barrierDataset)));
  return v.results;
}

/**
 * The barrier rule of a generator: one cell of vtune planting with generator `id` (it must be registered)
 * on `dataset` (default stories) × test-memorizer (a TEST DOUBLE), the `honest` attack instrumented; nothing the
 * provider side receives may lead to the generator, its options or the secret.
 */
export async function generatorBarrier(id: string, generatorOptions: Readonly<Record<string, unknown>>, insertion?: 'modify', dataset = 'stories'): Promise<RuleResult[]> {
  const v = new Verdicts('generator', id);
  const setup = standardAttackSetup({ count: 6, generator: id, generatorOptions, ...(insertion ? { insertion } : {}) }, dataset);
  const captured: Captured = {};
  const probe = instrumentAttack((attacks.get('honest') as AttackFactory)({}));
  try {
    await runCellWithAttack(setup.spec('honest', {}, 5), setup.deps(captured), probe.attack);
  } catch (err) {
    v.fail('barrier', `a cell planted with it failed: ${describeError(err)}`);
    return v.results;
  }
  const problems = barrierViolations(probe.args, { secret: captured.secret, mask: captured.mask, others: captured.userSide }, false);
  if (!captured.userSide || captured.userSide.length === 0) problems.push('the check could not find the generator in the defense');
  v.judge('barrier', problems, 'a planted cell handed the provider side no generator, options or secret');
  return v.results;
}
