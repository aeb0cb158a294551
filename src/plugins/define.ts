/**
 * Declared, typed plugins (issue 16). One declaration per plugin gives:
 * - the TypeScript type of its options (`OptionsInput<typeof def>` is what a scenario may write, checked at
 *   compile time by `defineScenario`; `create` receives the parsed `z.output`, defaults applied);
 * - the runtime validation, once, with every problem's field path as data and "did you mean" for an unknown
 *   option or enum value (src/plugins/options.ts);
 * - the defaults and help text (`help()`, `jsonSchema()` for `vtune-bench list`);
 * - its metadata: id, description, citation, and per kind the goal and access (attacks), spans (scorers)…
 *
 * A definition is also the plugin's factory: `def(options)` validates and creates (ConfigError naming the
 * option), so registries hold definitions and `attacks.get(id)(options)` keeps working. `def.check(options)`
 * validates without creating (the scenario loader uses it to report every problem before any cell runs).
 *
 *     export const randomSubset = defineAttack({
 *       id: 'random-subset',
 *       description: 'trains a uniform fraction of the rows',
 *       goal: 'pass',
 *       access: ['data'],
 *       options: z.object({ fraction: z.number().gt(0).lte(1).default(0.5).describe('fraction of rows trained') }),
 *       create: ({ fraction }) => ({ … }),
 *     });
 *
 * Options schemas are zod 4 objects (why zod: see src/plugins/options.ts); the framework makes them strict
 * (unknown keys are errors). Cross-field rules go in `.superRefine` with a `path`, so they are found by `check`.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { AttackAccess, AttackGoal } from '../types.js';
import { type Checked, type OptionHelp, type OptionProblem, checkValue, inputJsonSchema, optionsHelp, show } from './options.js';

export { z };
export type { Checked, FieldPath, OptionHelp, OptionProblem } from './options.js';

/** The plugin kinds the benchmark hosts. */
export type PluginKind = 'attack' | 'scorer' | 'policy' | 'generator' | 'provider' | 'dataset' | 'defense';

/** An options schema: a zod object (made strict by the framework). */
export type OptionsSchema = z.ZodObject;

/** What every declaration says, whatever its kind. */
export interface PluginSpec<Id extends string, S extends OptionsSchema, T> {
  /** Registry id: kebab-case, unique within its kind. */
  readonly id: Id;
  /** One line: what the plugin does (shown by `list`). */
  readonly description: string;
  /** Where the method comes from (paper, arXiv id, URL), when it has a source. */
  readonly citation?: string;
  /** The options (default: none). */
  readonly options?: S;
  /** Builds the plugin from validated options (defaults applied). Throwing ConfigError here is allowed. */
  create(options: z.output<S>): T;
}

/** A declared plugin: its factory, its schema, its metadata. */
export interface PluginDefinition<K extends PluginKind = PluginKind, Id extends string = string, S extends OptionsSchema = OptionsSchema, T = unknown, M = object> {
  /** Validates `options` and creates the plugin; bad options are a ConfigError naming the option (path in `problems`). */
  (options?: unknown): T;
  readonly kind: K;
  readonly id: Id;
  readonly description: string;
  readonly citation?: string;
  /** The strict options schema. */
  readonly options: S;
  /** Kind-specific metadata (goal, access, …). */
  readonly meta: M;
  /** Where the plugin was declared (a file, for collision messages), best effort. */
  readonly source: string;
  /** Validates without creating: the parsed options or every problem (paths relative to the options). */
  check(options: unknown): Checked<z.output<S>>;
  /** Validated options with defaults applied, or a ConfigError. */
  parse(options: unknown): z.output<S>;
  /** Each option's expected values, default and description. */
  help(): OptionHelp[];
  /** JSON Schema of the options a user may write (input side: defaults optional). */
  jsonSchema(): Record<string, unknown>;
}

/** Any definition (for registries and loaders). */
export type AnyDefinition = PluginDefinition<PluginKind, string, OptionsSchema, unknown, object>;

/** The options a user may write for a definition (defaults optional). */
export type OptionsInput<D> = D extends PluginDefinition<PluginKind, string, infer S, unknown, object> ? z.input<S> : never;
/** The options a definition's `create` receives (defaults applied). */
export type OptionsOutput<D> = D extends PluginDefinition<PluginKind, string, infer S, unknown, object> ? z.output<S> : never;

/**
 * A ConfigError for bad plugin options: its `problems` carry each field path (relative to the options) as
 * data, its `subject` names the plugin; the message reads "attack 'random-subset': fraction: expected a number
 * in (0, 1], got 1.5".
 */
export function optionsError(kind: PluginKind, id: string, problems: readonly OptionProblem[], cause?: unknown): ConfigError {
  return new ConfigError(problems, { subject: `${kind} '${id}'`, ...(cause === undefined ? {} : { cause }) });
}

/** The problems an error carries as data (a ConfigError's), if any. */
export function problemsOf(err: unknown): readonly OptionProblem[] | undefined {
  return err instanceof ConfigError ? err.problems : undefined;
}

const EMPTY = z.object({});

/** The file that called a define* function (the first stack frame outside this module), best effort. */
function callerFile(): string {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  for (const line of stack) {
    const m = /(?:\(|at )((?:file:\/\/)?[^()\s]+?):\d+:\d+\)?\s*$/.exec(line.trim());
    if (m && !m[1]!.includes('/src/plugins/define.')) return m[1]!.replace(/^file:\/\//, '');
  }
  return '(unknown)';
}

/**
 * The generic declaration behind every define* function: any plugin kind, any metadata. Plugin kinds not
 * listed below (and tests) may use it directly.
 */
export function definePlugin<K extends PluginKind, const Id extends string, S extends OptionsSchema = typeof EMPTY, T = unknown, M extends object = object>(
  kind: K,
  spec: PluginSpec<Id, S, T>,
  meta: M = {} as M,
): PluginDefinition<K, Id, S, T, M> {
  if (typeof spec.id !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(spec.id)) {
    throw new ConfigError(`${kind} id ${JSON.stringify(spec.id)}: expected a kebab-case id (lower-case letters, digits, . _ -)`);
  }
  if (typeof spec.description !== 'string' || spec.description.trim() === '') throw new ConfigError(`${kind} '${spec.id}': a description is required`);
  const schema = (spec.options ?? EMPTY).strict() as unknown as S;
  const check = (options: unknown): Checked<z.output<S>> => checkValue(schema, options ?? {}, 'option');
  const parse = (options: unknown): z.output<S> => {
    const r = check(options);
    if (!r.ok) throw optionsError(kind, spec.id, r.problems);
    return r.value;
  };
  const factory = (options?: unknown): T => spec.create(parse(options));
  return Object.assign(factory, {
    kind,
    id: spec.id,
    description: spec.description,
    ...(spec.citation !== undefined ? { citation: spec.citation } : {}),
    options: schema,
    meta: Object.freeze({ ...meta }),
    source: callerFile(),
    check,
    parse,
    help: () => optionsHelp(schema),
    jsonSchema: () => inputJsonSchema(schema),
  }) as PluginDefinition<K, Id, S, T, M>;
}

/** Attack metadata: what a provider playing it aims at and what it needs. */
export interface AttackMeta {
  /** `pass` (lazy), `evade`, or `baseline`; several when an option picks it (weight-noise's `train`). */
  readonly goal: AttackGoal | readonly AttackGoal[];
  /** The access it needs at least (a scorer it is given may add more). */
  readonly access: readonly AttackAccess[];
  /** A test-only upper bound that sees the true backdoor mask. */
  readonly oracle?: boolean;
}

/** Scorer metadata. */
export interface ScorerMeta {
  readonly access: readonly AttackAccess[];
  /**
   * True when it returns suspected spans (strip-spans and lookup-wrapper need them); 'by-options' when an
   * option decides (the created scorer's `yieldsSpans` then says).
   */
  readonly yieldsSpans: boolean | 'by-options';
}

/** Policy metadata. */
export interface PolicyMeta {
  readonly goal: 'pass' | 'evade';
  readonly needsSpans: boolean;
}

/** Defense metadata: what it needs from the model it verifies. */
export interface DefenseMeta {
  readonly access?: readonly AttackAccess[];
}

/** Provider metadata. */
export interface ProviderMeta {
  /** What its models can do ('train', 'generate', 'logprobs', 'weights', …), when known without opening it. */
  readonly capabilities?: readonly string[];
}

/** Declares an attack (see the module comment). */
export function defineAttack<const Id extends string, S extends OptionsSchema = typeof EMPTY, T = unknown>(spec: PluginSpec<Id, S, T> & AttackMeta) {
  return definePlugin('attack', spec, { goal: spec.goal, access: spec.access, ...(spec.oracle ? { oracle: true } : {}) } as AttackMeta);
}

/** Declares a row scorer (a detector of suspicious training rows). */
export function defineScorer<const Id extends string, S extends OptionsSchema = typeof EMPTY, T = unknown>(spec: PluginSpec<Id, S, T> & ScorerMeta) {
  return definePlugin('scorer', spec, { access: spec.access, yieldsSpans: spec.yieldsSpans } as ScorerMeta);
}

/** Declares a policy (what a detection-guided attack does with flagged rows). */
export function definePolicy<const Id extends string, S extends OptionsSchema = typeof EMPTY, T = unknown>(spec: PluginSpec<Id, S, T> & PolicyMeta) {
  return definePlugin('policy', spec, { goal: spec.goal, needsSpans: spec.needsSpans } as PolicyMeta);
}

/** Declares a backdoor generator. */
export function defineGenerator<const Id extends string, S extends OptionsSchema = typeof EMPTY, T = unknown, M extends object = object>(spec: PluginSpec<Id, S, T> & { readonly meta?: M }) {
  return definePlugin('generator', spec, spec.meta ?? ({} as M));
}

/** Declares a provider (its options; `create` may return a promise of the opened provider). */
export function defineProvider<const Id extends string, S extends OptionsSchema = typeof EMPTY, T = unknown>(spec: PluginSpec<Id, S, T> & ProviderMeta) {
  return definePlugin('provider', spec, { ...(spec.capabilities ? { capabilities: spec.capabilities } : {}) } as ProviderMeta);
}

/** Declares a dataset source. */
export function defineDataset<const Id extends string, S extends OptionsSchema = typeof EMPTY, T = unknown, M extends object = object>(spec: PluginSpec<Id, S, T> & { readonly meta?: M }) {
  return definePlugin('dataset', spec, spec.meta ?? ({} as M));
}

/** Declares a defense (a verifier: vtune and its rivals). */
export function defineDefense<const Id extends string, S extends OptionsSchema = typeof EMPTY, T = unknown>(spec: PluginSpec<Id, S, T> & DefenseMeta) {
  return definePlugin('defense', spec, { ...(spec.access ? { access: spec.access } : {}) } as DefenseMeta);
}

/**
 * The options every rival defense takes besides its own (spread into its schema): a planting seed, and the
 * significance level as written in scenarios — the pipeline reads it and passes it to `verify`, and it is
 * declared here so that a bad α fails at load, with its path, like any other option.
 */
export const DEFENSE_SEED_ALPHA = {
  seed: z.string().min(1).optional().describe("planting seed (default: drawn from the user context's stream)"),
  alpha: z.number().gt(0).lt(1).optional().describe('significance level (read by the pipeline, which passes it to verify; default 1e-3)'),
};

/**
 * A rule zod's built-in checks cannot state, in the project's words: `satisfying(z.string(), 'a string of at
 * least 2 distinct characters', test)` fails as "expected a string of at least 2 distinct characters, got
 * \"aa\"" at the field's path, and `list` shows the same words as what the option expects.
 */
export function satisfying<S extends z.ZodType>(schema: S, expected: string, test: (value: z.output<S>) => boolean): S {
  return schema
    .superRefine((v, ctx) => {
      if (!test(v as z.output<S>)) ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${show(v)}` });
    })
    .meta({ expected }) as S;
}

/** True for a declared plugin (as opposed to a bare factory). */
export function isDefinition(v: unknown): v is AnyDefinition {
  return typeof v === 'function' && typeof (v as Partial<AnyDefinition>).check === 'function' && typeof (v as Partial<AnyDefinition>).kind === 'string';
}

/**
 * Params for a cross-field `superRefine` that must run even when another field is already bad, so one
 * `check` reports every problem (zod skips refinements after a failed field by default). The refinement
 * then sees the raw values: treat them as unknown.
 */
export const EVEN_IF_INVALID = { when: () => true } as const;

/**
 * Validates nested plugin options inside a `superRefine` (an attack's `scorerOptions` by its scorer's
 * schema): each problem is added under `at` (`['scorerOptions']`), so the path reaches the bad field.
 */
export function checkNested(ctx: z.core.$RefinementCtx, def: AnyDefinition, options: unknown, at: readonly (string | number)[]): void {
  // Not an object at all: the field's own schema says so; do not report it twice.
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) return;
  const r = def.check(options);
  if (!r.ok) for (const p of r.problems) ctx.addIssue({ code: 'custom', path: [...at, ...p.path], message: p.message });
}
