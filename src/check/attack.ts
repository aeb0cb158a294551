/**
 * The attack contract as a library (STYLE.md rule 7), used by test/attacks/contract.test.ts and by
 * `vtune-bench check <module>`. An attack must be:
 * - pure: the plans its hooks receive are deep-frozen (a write throws) and compared after each hook;
 * - seeded: the same cell twice gives the same outcome, and no hook calls Math.random;
 * - behind the information barrier: nothing its hooks receive leads to the defense's secret, its backdoor
 *   list or the backdoor mask (oracles: the mask only, by design), and no signature reaches the log;
 * - honestly traced: the ground truth the pipeline MEASURED agrees with what the attack declares (a hook it
 *   does not have cannot have changed the model; an attack that never trains trained nothing; `honest` is a
 *   measurement, not a label).
 * The standard check runs one cell of the real vtune defense on the built-in `qa` dataset against the
 * `test-memorizer` provider (a fast deterministic TEST DOUBLE: it memorises what it trains on), twice.
 */
import type { AnyAttack, AttackFactory } from '../../attacks/compose.js';
import { attacks } from '../../attacks/index.js';
import { defenses } from '../../defenses/index.js';
import { loadDataset } from '../datasets/index.js';
import { ConfigError, describeError } from '../errors.js';
import { cellKey, runCell, type CellDeps, type CellOutcome, type CellSpec, type DefenseFactory } from '../pipeline/cell.js';
import { providers } from '../providers/index.js';
import type { AttackGoal, Defense, GroundTruth, Logger, Provider } from '../types.js';
import { type RuleResult, Verdicts } from './types.js';
import { deepFreeze, firstDifference, isFrozenWrite, reachable, snapshot, withoutMathRandom } from './walk.js';

const HOOKS = ['onData', 'onTraining', 'onModel', 'onInference'] as const;
const GOALS: readonly string[] = ['honest', 'null', 'pass', 'evade'] satisfies readonly AttackGoal[];
const ACCESS = ['data', 'logprobs', 'weights', 'generate', 'embed'];

/** An attack whose hooks record what they receive and whether they wrote to their plan. */
export interface InstrumentedAttack {
  readonly attack: AnyAttack;
  /** Every argument every hook (or probe) received, in call order. */
  readonly args: unknown[];
  /** Purity problems: "onData wrote to rows[3].completion". */
  readonly purity: string[];
}

/**
 * Wraps an attack's hooks: each plan argument (onData, onTraining) is snapshotted, deep-frozen and compared
 * after the hook; every argument is recorded. Where the attack has no onData/onModel/onInference hook, a probe
 * that returns its input records what the provider side would have handed it, so that hook-less attacks are
 * walked too (a probe changes nothing: the pipeline compares models by identity). `into` collects into given
 * arrays (several attacks into one place: instrumentingAttacks).
 */
export function instrumentAttack(attack: AnyAttack, into: { readonly args: unknown[]; readonly purity: string[] } = { args: [], purity: [] }): InstrumentedAttack {
  const { args, purity } = into;
  const a = attack as AnyAttack & Record<string, unknown>;
  const wrapped: Record<string, unknown> = { ...a };
  for (const key of ['id', 'goal', 'access', 'oracle', 'trains', 'withholdPlanted', 'scorer', 'policy'] as const) if (key in a) wrapped[key] = a[key];
  for (const hook of HOOKS) {
    const fn = a[hook] as ((...x: unknown[]) => Promise<unknown>) | undefined;
    const isPlan = hook === 'onData' || hook === 'onTraining';
    if (fn) {
      wrapped[hook] = async (...x: unknown[]) => {
        args.push(...x);
        const before = isPlan ? snapshot(x[0]) : undefined;
        if (isPlan) deepFreeze(x[0]);
        try {
          return await fn.apply(a, x);
        } catch (err) {
          if (isFrozenWrite(err)) purity.push(`${hook} wrote to its frozen input plan (${(err as Error).message})`);
          throw err;
        } finally {
          const changed = isPlan ? firstDifference(before, x[0]) : undefined;
          if (changed) purity.push(`${hook} changed its input plan at ${changed}`);
        }
      };
    } else if (hook !== 'onTraining') {
      wrapped[hook] = async (...x: unknown[]) => (args.push(...x), x[0]);
    }
  }
  return { attack: wrapped as unknown as AnyAttack, args, purity };
}

/** Every attack a pipeline builds through `instrumentingAttacks`, instrumented, with what their hooks received. */
export interface InstrumentedAttacks {
  /** Every argument every hook (or probe) of every attack built received, in call order. */
  readonly args: unknown[];
  /** Purity problems of every attack built (see InstrumentedAttack). */
  readonly purity: string[];
  /** The pipeline dependency (CellDeps.attack): builds the attack with `make`, then instruments it. */
  readonly attack: (id: string, options: Readonly<Record<string, unknown>>) => AnyAttack;
}

/**
 * A spy handed to the pipeline through its dependencies (`CellDeps.attack`): each attack `make` builds is
 * wrapped by instrumentAttack, and what its hooks receive is collected in one place. No registry entry is
 * touched (unlike runCellWithAttack). The contract tests of attacks and defenses use it.
 */
export function instrumentingAttacks(make: (id: string, options: Readonly<Record<string, unknown>>) => AnyAttack): InstrumentedAttacks {
  const args: unknown[] = [];
  const purity: string[] = [];
  return {
    args,
    purity,
    attack: (id, options) => instrumentAttack(make(id, options), { args, purity }).attack,
  };
}

/**
 * Runs `spec` with `attack` standing in for whatever the attack registry would build for `spec.attack.id`.
 * The pipeline looks attacks up in the registry, so the entry is replaced for the duration of the call.
 */
export async function runCellWithAttack(spec: CellSpec, deps: CellDeps, attack: AnyAttack): Promise<CellOutcome> {
  const entries = attacks.entries as Record<string, AttackFactory>;
  const had = Object.prototype.hasOwnProperty.call(entries, spec.attack.id);
  const original = entries[spec.attack.id];
  entries[spec.attack.id] = () => attack;
  try {
    // A pipeline that receives its attack through its deps (`attack(id, options)`) gets it there too.
    return await runCell(spec, { ...deps, attack: () => attack } as CellDeps);
  } finally {
    if (had) entries[spec.attack.id] = original!;
    else delete entries[spec.attack.id];
  }
}

/**
 * What the measured ground truth contradicts in what the attack declares (empty: consistent). `trace` is the
 * measured truth, `attack` the attack as its factory built it (not instrumented).
 */
export function traceViolations(truth: GroundTruth, attack: AnyAttack): string[] {
  const out: string[] = [];
  if (truth.rowsTrained > truth.rowsSubmitted) out.push(`trained ${truth.rowsTrained} rows of ${truth.rowsSubmitted} submitted`);
  if (truth.backdoorRowsTrained > truth.backdoorRowsSubmitted) out.push(`trained ${truth.backdoorRowsTrained} backdoor rows of ${truth.backdoorRowsSubmitted} submitted`);
  if (truth.honest && !(Math.abs(truth.trainedTokenFraction - 1) < 1e-9)) out.push(`measured honest, but trained a token fraction of ${truth.trainedTokenFraction}`);
  if (truth.honest && (truth.rowsTrained !== truth.rowsSubmitted || truth.modelModified || truth.inferenceWrapped)) out.push('measured honest, but the rest of the trace says otherwise');
  if (!attack.onModel && truth.modelModified) out.push('the model was modified, but the attack has no onModel hook');
  if (!attack.onInference && truth.inferenceWrapped) out.push('the served model was wrapped, but the attack has no onInference hook');
  if (!attack.trains && truth.rowsTrained > 0) out.push(`declares trains: false, but ${truth.rowsTrained} rows reached the trainer`);
  return out;
}

/**
 * The objects of a secret the provider side must never reach: the secret itself, every object or symbol held
 * directly in it, and the elements of its lists (vtune: the backdoor list and each backdoor).
 */
export function secretParts(secret: unknown): unknown[] {
  if (secret === null || typeof secret !== 'object') return [];
  const parts: unknown[] = [secret];
  for (const key of Reflect.ownKeys(secret)) {
    const v = (secret as Record<PropertyKey, unknown>)[key];
    if (typeof v === 'symbol' || (typeof v === 'object' && v !== null)) parts.push(v);
    if (Array.isArray(v)) for (const x of v) if (typeof x === 'object' && x !== null) parts.push(x);
  }
  return parts;
}

/**
 * Barrier problems: which forbidden objects are reachable from what the provider side received, and whether
 * an oracle context (one with a `backdoorMask`) was seen exactly when the attack is an oracle.
 */
export function barrierViolations(received: readonly unknown[], forbidden: { readonly secret: unknown; readonly mask?: unknown; readonly others?: readonly unknown[] }, oracle: boolean): string[] {
  const seen = reachable(received);
  const out: string[] = [];
  const parts = secretParts(forbidden.secret);
  parts.forEach((p, i) => {
    if (seen.has(p)) out.push(i === 0 ? 'the provider side reaches the secret object' : `the provider side reaches part ${i} of the secret`);
  });
  if (forbidden.mask !== undefined && seen.has(forbidden.mask)) out.push('the provider side reaches the backdoor mask');
  for (const o of forbidden.others ?? []) if (seen.has(o)) out.push('the provider side reaches a user-side object (the generator or its options)');
  const withMask = [...seen].some((o) => typeof o === 'object' && o !== null && Object.prototype.hasOwnProperty.call(o, 'backdoorMask'));
  if (withMask && !oracle) out.push('a non-oracle attack received a context with a backdoorMask');
  if (!withMask && oracle) out.push('an oracle attack never received the backdoor mask');
  return out;
}

/** The cell the standard check runs, and how: real vtune defense × qa × test-memorizer (a TEST DOUBLE). */
export interface AttackCheckSetup {
  /** The cell for `attackId` with `options`, seeded by `seed`. */
  spec(attackId: string, options: Readonly<Record<string, unknown>>, seed: number): CellSpec;
  /** Fresh deps for one run; `captured` receives the secret, mask and defense the run planted with. */
  deps(captured: Captured): CellDeps & { readonly log: Logger & { readonly lines: readonly string[] } };
}

/** What a run planted: filled in by the setup's defense. */
export interface Captured {
  secret?: unknown;
  mask?: unknown;
  /** User-side objects that must stay there (the generator and its options). */
  userSide?: unknown[];
  /** Signatures (texts) that must never reach the log. */
  signatures?: string[];
}

/** A logger that keeps its lines. */
export function linesLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => void lines.push(m), warn: (m) => void lines.push(m), debug: (m) => void lines.push(m) };
}

/** The standard setup (see the module comment); `defenseOptions` are vtune's (a generator to check, say), `dataset` a built-in. */
export function standardAttackSetup(defenseOptions: Readonly<Record<string, unknown>> = { count: 6 }, dataset = 'qa'): AttackCheckSetup {
  return {
    spec(attackId, options, seed) {
      const fields: Omit<CellSpec, 'key'> = {
        dataset: { spec: dataset, size: 120, heldOut: 2 },
        model: 'test-memorizer:base',
        defense: { id: 'vtune', options: defenseOptions },
        attack: { id: attackId, options },
        hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
        seed,
      };
      return { key: cellKey(fields), ...fields };
    },
    deps(captured) {
      const opened = new Map<string, Promise<Provider>>();
      const deps = {
        log: linesLogger(),
        openProvider: (p: string) => {
          if (!opened.has(p)) opened.set(p, Promise.resolve((providers.get(p) as (o: object) => Provider | Promise<Provider>)({})));
          return opened.get(p)!;
        },
        defense: (d: string) => (o?: Readonly<Record<string, unknown>>) => capturing((defenses.get(d) as DefenseFactory)(o), captured),
        // What a pipeline that takes all its plugins through its deps also asks for.
        attack: (id: string, o: Readonly<Record<string, unknown>>) => (attacks.get(id) as AttackFactory)(o),
        loadDataset,
        clock: { now: () => performance.now() },
      };
      return deps as CellDeps & { readonly log: Logger & { readonly lines: readonly string[] } };
    },
  };
}

/** Wraps a defense so that its planted rows are deep-frozen (purity) and its secret and mask are captured. */
export function capturing(real: Defense<any>, captured: Captured): Defense<any> {
  const generator = (real as { generator?: { options?: unknown } }).generator;
  return {
    ...real,
    id: real.id,
    plant: async (rows, ctx) => {
      const planted = await real.plant(rows, ctx);
      captured.secret = planted.secret;
      const backdoors = (planted.secret as { backdoors?: { signature?: unknown }[] }).backdoors;
      captured.signatures = Array.isArray(backdoors) ? backdoors.map((b) => b.signature).filter((s): s is string => typeof s === 'string') : [];
      if (generator) captured.userSide = [generator, generator.options].filter((x) => typeof x === 'object' && x !== null);
      return { rows: deepFreeze(planted.rows), secret: planted.secret };
    },
    backdoorMask: (s, n) => (captured.mask = real.backdoorMask(s, n)) as boolean[],
    verify: (m, s, o) => real.verify(m, s, o),
  };
}

/** An outcome without its timings (which legitimately differ between two runs of one cell). */
const timeless = (o: CellOutcome): unknown => ({ ...o, timingsMs: {} });

/** Options the check passes an attack (its factory's defaults plus what the user gave). */
export interface AttackCheckOptions {
  readonly options?: Readonly<Record<string, unknown>>;
  readonly setup?: AttackCheckSetup;
  readonly seed?: number;
}

/**
 * Runs every attack rule on `factory` (registered as `id`) and returns one verdict per rule. Two cells are run;
 * a cell that cannot run on the setup's provider (an attack that needs weights of test-memorizer) skips the
 * rules that need one, with the reason.
 */
export async function checkAttack(id: string, factory: AttackFactory, opts: AttackCheckOptions = {}): Promise<RuleResult[]> {
  const v = new Verdicts('attack', id);
  const options = opts.options ?? {};
  const setup = opts.setup ?? standardAttackSetup();
  const seed = opts.seed ?? 3;

  let attack: AnyAttack;
  try {
    attack = factory(options);
  } catch (err) {
    v.fail('declares', `the factory refused the options ${JSON.stringify(options)}: ${describeError(err)}`);
    return v.results;
  }
  const declared: string[] = [];
  if (attack.id !== id) declared.push(`its id is '${attack.id}', but it is registered as '${id}'`);
  if (!GOALS.includes(attack.goal)) declared.push(`goal ${JSON.stringify(attack.goal)} is not one of ${GOALS.join(', ')}`);
  if (!Array.isArray(attack.access) || !attack.access.includes('data')) declared.push("access must list 'data'");
  else for (const a of attack.access) if (!ACCESS.includes(a)) declared.push(`unknown access ${JSON.stringify(a)}`);
  if (typeof attack.oracle !== 'boolean') declared.push('oracle must be true or false');
  if (typeof attack.trains !== 'boolean') declared.push('trains must be true or false');
  try {
    factory({ ...options, noSuchOption__: 1 });
    declared.push("the factory accepts an unknown option ('noSuchOption__') instead of a ConfigError");
  } catch (err) {
    if (!(err instanceof ConfigError)) declared.push(`an unknown option raised ${describeError(err)}, not a ConfigError`);
  }
  v.judge('declares', declared, `id, goal '${attack.goal}', access [${attack.access.join(', ')}] and option validation`);

  const runs: { outcome?: CellOutcome; error?: unknown; probe: InstrumentedAttack; captured: Captured; logLines: readonly string[]; mathRandomCalls: number }[] = [];
  for (let i = 0; i < 2; i++) {
    const captured: Captured = {};
    const probe = instrumentAttack(factory(options));
    const deps = setup.deps(captured);
    const r = await withoutMathRandom(() => runCellWithAttack(setup.spec(id, options, seed), deps, probe.attack));
    runs.push({ outcome: r.value, error: r.error, probe, captured, logLines: deps.log.lines, mathRandomCalls: r.mathRandomCalls });
  }
  const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];

  const purity = [...new Set(runs.flatMap((r) => r.probe.purity))];
  if (purity.length > 0) v.fail('purity', purity.join('; '));
  if (a.mathRandomCalls > 0) v.fail('seeding', `called Math.random ${a.mathRandomCalls} time(s): draw from ctx.rng, the seeded stream`);
  if (a.error !== undefined || b.error !== undefined) {
    const err = a.error ?? b.error;
    const reason = describeError(err);
    // An attack the setup's provider cannot serve is not a contract failure: the rules that need a cell skip.
    const cannot = err instanceof ConfigError && /needs '.*' access|cannot train/.test(reason);
    for (const rule of ['purity', 'seeding', 'barrier', 'trace'] as const) {
      if (v.has(rule)) continue;
      if (cannot) v.skip(rule, `the check's provider cannot run this attack: ${reason}`);
      else if (purity.length > 0) v.skip(rule, 'not judged: the cell stopped at the purity failure');
      else v.fail(rule, `the cell failed, so this rule could not be judged: ${reason}`);
    }
    return v.results;
  }
  const outA = a.outcome!;
  const outB = b.outcome!;
  if (!v.has('purity')) v.pass('purity', 'plans deep-frozen and unchanged after every hook; planted rows frozen');
  if (!v.has('seeding')) {
    const same = firstDifference(snapshot(timeless(outA)), snapshot(timeless(outB)));
    v.judge('seeding', same ? [`the same cell twice gave different outcomes (first at ${same})`] : [], 'the same cell twice gave the same outcome; no Math.random');
  }
  const barrier = barrierViolations(a.probe.args, { secret: a.captured.secret, mask: a.captured.mask, others: a.captured.userSide }, attack.oracle);
  if (a.probe.args.length === 0) barrier.push('no hook or probe was called: the check could not observe the provider side');
  const signature = a.captured.signatures?.[0];
  if (signature && a.logLines.join('\n').includes(signature)) barrier.push('a backdoor signature reached the log');
  v.judge('barrier', barrier, `walked ${reachable(a.probe.args).size} objects the provider side received: no secret, backdoor or mask${attack.oracle ? ' (oracle: the mask, by design)' : ''}`);
  const trace = traceViolations(outA.truth, attack);
  if (outA.attack.oracle !== attack.oracle) trace.push('the record says oracle differently from the attack');
  v.judge('trace', trace, `measured: ${outA.truth.rowsTrained}/${outA.truth.rowsSubmitted} rows trained, ${outA.truth.stepsRun}/${outA.truth.stepsPromised} steps, honest=${outA.truth.honest}`);
  return v.results;
}
