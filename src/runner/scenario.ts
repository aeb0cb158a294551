/**
 * Scenario files (DESIGN.md §4–5, STYLE rule 9): the matrix a run expands into cells, typed once here and
 * validated once at load. `defineScenario` type-checks attack and defense ids and their options at compile time
 * (from their declarations, attacks/index.ts and defenses/index.ts); at load, every plugin's options are checked
 * against its declared schema (src/plugins/define.ts) and the hyper-parameters against the one schema
 * (src/plugins/hyper.ts). Every
 * problem is collected with its field path as DATA (ConfigError.problems: `['attacks', 2, 'options',
 * 'fraction']`) and the message names it (`attacks[2].options.fraction: expected …, got …`); unknown ids and
 * options get "did you mean". Nothing is parsed out of an error message. Settings that need the data or the
 * providers (more backdoors than rows, a missing API key) are checked by `preflight` before any cell runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stripBom } from '../datasets/lines.js';
import { canonicalJson } from '../core/canonical-json.js';
import { ConfigError, type FieldPath, type Problem, VtuneError } from '../errors.js';
import { isDefinition } from '../plugins/define.js';
import { checkHyper } from '../plugins/hyper.js';
import { show } from '../plugins/options.js';
import { unknownMessage } from '../registry.js';
import { repoRoot } from '../shared-path.js';
import type { HyperParams } from '../types.js';
import { type FieldMapping, fieldMapOption } from '../datasets/formats.js';
import type { AttackOptions } from '../../attacks/index.js';
import type { DefenseOptions } from '../../defenses/index.js';
import type { Catalog, PluginRegistry } from './catalog.js';

/** A dataset axis entry: a dataset spec for src/datasets `loadDataset`, with optional size and held-out split. */
export interface ScenarioDataset {
  readonly spec: string;
  readonly size?: number;
  readonly heldOut?: number;
  readonly label?: string;
  /** Where prompt and completion live in a file whose schema is not detected (`prompt=question,completion=answer`). */
  readonly fieldMap?: FieldMapping;
}

/** A defense configuration: `vtune` with its generator, null mode, backdoor count or rate, α… */
export interface ScenarioDefense {
  readonly id: string;
  readonly label?: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** An attack configuration: a registry id and the options its factory validates. */
export interface ScenarioAttack {
  readonly id: string;
  readonly label?: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** A validated scenario: the single source of truth for what a run does. */
export interface Scenario {
  readonly name: string;
  readonly description?: string;
  readonly seeds: readonly number[];
  readonly datasets: readonly ScenarioDataset[];
  /** `<provider>:<name>` base models. */
  readonly models: readonly string[];
  readonly defenses: readonly ScenarioDefense[];
  readonly attacks: readonly ScenarioAttack[];
  readonly hyper: HyperParams;
  /** Per-provider cap on concurrent cells (default: the provider's own `concurrency`). */
  readonly concurrency?: Readonly<Record<string, number>>;
  /** Options for each provider's factory (e.g. `{ openai: { baseURL } }`); keys are never read from here. */
  readonly providers?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** The pipeline's utility stage: options, or false to skip it (default: on, ≤ 20 held-out rows). */
  readonly utility?: Readonly<Record<string, unknown>> | false;
  /** Plugin modules from outside the repository, as written (loaded before validation: src/plugins/load.ts). */
  readonly plugins?: readonly string[];
}

/**
 * An attack entry a scenario may write: a bare id, or `{id, label?, options?}` whose options are typed by that
 * attack's declaration (attacks/index.ts `AttackOptions`): a misspelt id or a wrongly typed option fails
 * `npm run typecheck`. `A` maps ids to option types; plugins from outside add theirs
 * (`defineScenario<AttackOptions & { 'my-attack': MyOptions }>({...})`).
 */
export type ScenarioAttackInput<A = AttackOptions> =
  | (keyof A & string)
  | { [K in keyof A & string]: { readonly id: K; readonly label?: string; readonly options?: A[K] } }[keyof A & string];

/**
 * A defense entry a scenario may write, typed like attacks by each defense's declaration (defenses/index.ts
 * `DefenseOptions`): a bare id, `{id, label?, options?}` with that defense's options, or `{label?, options?}`
 * without an id, which is `vtune`. A misspelt defense id or option, or a wrongly typed one, fails
 * `npm run typecheck`.
 */
export type ScenarioDefenseInput<D = DefenseOptions> =
  | (keyof D & string)
  | { [K in keyof D & string]: { readonly id: K; readonly label?: string; readonly options?: D[K] } }[keyof D & string]
  | { readonly id?: undefined; readonly label?: string; readonly options?: D extends { readonly vtune: infer V } ? V : Readonly<Record<string, unknown>> };

/** What a scenario file may write: shorthands (a bare id string, options omitted) are allowed. */
export interface ScenarioInput<A = AttackOptions, D = DefenseOptions> {
  readonly name: string;
  readonly description?: string;
  /** Seeds, or how many (0, 1, … n−1). */
  readonly seeds: readonly number[] | number;
  readonly datasets: readonly (string | (Omit<ScenarioDataset, 'fieldMap'> & { readonly fieldMap?: string | FieldMapping }))[];
  readonly models: readonly string[];
  readonly defenses: readonly ScenarioDefenseInput<D>[];
  readonly attacks: readonly ScenarioAttackInput<A>[];
  /** The promised hyper-parameters (src/plugins/hyper.ts, the one schema). */
  readonly hyper: HyperParams;
  readonly concurrency?: Readonly<Record<string, number>>;
  readonly providers?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly utility?: { readonly maxRows?: number; readonly task?: boolean; readonly slackTokens?: number } | false;
  /**
   * Plugin modules from outside the repository: paths relative to the scenario file (`./my-attack.ts`) or npm
   * package names. They register their generators, attacks and scorers before the rest is validated.
   */
  readonly plugins?: readonly string[];
}

/**
 * Types a scenario file's default export (like vitest's defineConfig): attack and defense ids and their options
 * are checked at compile time against the plugins' declarations. Validation (every plugin's options, the hyper
 * schema) happens again at load, for JSON scenarios and values only known at run time.
 */
export function defineScenario<A = AttackOptions, D = DefenseOptions>(input: ScenarioInput<NoInfer<A>, NoInfer<D>>): ScenarioInput<A, D> {
  return input as ScenarioInput<A, D>;
}

/** Collects every problem of a scenario (its field path as data) before failing, so one load lists them all. */
class Problems {
  readonly list: Problem[] = [];
  add(path: FieldPath, message: string): void {
    this.list.push({ path, message });
  }
  addAll(at: FieldPath, problems: readonly Problem[]): void {
    for (const q of problems) this.add([...at, ...q.path], q.message);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], path: FieldPath, p: Problems): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) p.add([...path, key], unknownMessage('field', key, allowed));
  }
}

function str(v: unknown, path: FieldPath, p: Problems): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v;
  p.add(path, `expected a non-empty string, got ${show(v)}`);
  return undefined;
}

function num(v: unknown, path: FieldPath, p: Problems, check: { int?: boolean; min?: number; minExclusive?: number; max?: number } = {}): number | undefined {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (!check.int || Number.isInteger(v)) &&
    (check.min === undefined || v >= check.min) &&
    (check.minExclusive === undefined || v > check.minExclusive) &&
    (check.max === undefined || v <= check.max);
  if (ok) return v as number;
  const what = `${check.int ? 'an integer' : 'a number'}${
    check.minExclusive !== undefined ? ` > ${check.minExclusive}` : check.min !== undefined ? ` ≥ ${check.min}` : ''
  }${check.max !== undefined ? ` ≤ ${check.max}` : ''}`;
  p.add(path, `expected ${what}, got ${show(v)}`);
  return undefined;
}

function lookup(registry: PluginRegistry | undefined, id: string, path: FieldPath, p: Problems): boolean {
  if (!registry) return true; // not available in this build: the pipeline will say so when it runs
  if (registry.has(id)) return true;
  p.add(path, unknownMessage(registry.kind, id, registry.ids));
  return false;
}

/**
 * Checks a plugin's options now, not in the middle of a run. A declared plugin (src/plugins/define.ts) is
 * checked against its schema — every problem, each with its field path as data — and then created, so rules
 * its `create` enforces speak too. A bare factory is called; the paths its ConfigError carries (as data) are
 * placed under `<path>.options`. Never is a path recovered from a message.
 */
function checkPlugin(registry: PluginRegistry, id: string, options: Record<string, unknown>, path: FieldPath, p: Problems): void {
  const entry = registry.get(id);
  const at = [...path, 'options'];
  if (isDefinition(entry)) {
    const checked = entry.check(options);
    if (!checked.ok) return p.addAll(at, checked.problems);
  }
  if (typeof entry !== 'function') return;
  try {
    (entry as (o: Record<string, unknown>) => unknown)(options);
  } catch (err) {
    if (err instanceof ConfigError) p.addAll(at, err.problems.map((q) => (err.subject && q.path.length === 0 ? { path: q.path, message: `${err.subject}: ${q.message}` } : q)));
    else if (err instanceof VtuneError) p.add(at, err.message);
    else throw err;
  }
}

/** Validates raw scenario data (a file's default export or parsed JSON). `file` prefixes every message. */
export function validateScenario(raw: unknown, catalog: Pick<Catalog, 'attacks' | 'defenses' | 'generators' | 'providers'>, file = 'scenario'): Scenario {
  const p = new Problems();
  if (!isRecord(raw)) throw new ConfigError(`expected a scenario object (defineScenario({...})), got ${show(raw)}`, { file });
  checkKeys(raw, ['name', 'description', 'seeds', 'datasets', 'models', 'defenses', 'attacks', 'hyper', 'concurrency', 'providers', 'utility', 'plugins'], [], p);

  const name = str(raw.name, ['name'], p);
  if (name && !/^[a-z0-9][a-z0-9._-]*$/i.test(name)) p.add(['name'], `expected a file-name-safe id (letters, digits, . _ -), got ${show(name)}`);
  const description = raw.description === undefined ? undefined : str(raw.description, ['description'], p);

  let seeds: number[] = [];
  if (typeof raw.seeds === 'number') {
    const n = num(raw.seeds, ['seeds'], p, { int: true, min: 1 });
    if (n !== undefined) seeds = Array.from({ length: n }, (_, i) => i);
  } else if (Array.isArray(raw.seeds) && raw.seeds.length > 0) {
    raw.seeds.forEach((s, i) => {
      const v = num(s, ['seeds', i], p, { int: true, min: 0 });
      if (v !== undefined) seeds.push(v);
    });
    if (new Set(seeds).size !== seeds.length) p.add(['seeds'], 'seeds must be distinct');
  } else p.add(['seeds'], `expected a positive count or a non-empty list of integers, got ${show(raw.seeds)}`);

  const datasets: ScenarioDataset[] = [];
  list(raw.datasets, 'datasets', p).forEach((d, i) => {
    const path = ['datasets', i];
    if (typeof d === 'string') {
      if (str(d, path, p)) datasets.push({ spec: d });
      return;
    }
    if (!isRecord(d)) return p.add(path, `expected a dataset spec string or {spec, size?, heldOut?, label?, fieldMap?}, got ${show(d)}`);
    checkKeys(d, ['spec', 'size', 'heldOut', 'label', 'fieldMap'], path, p);
    const spec = str(d.spec, [...path, 'spec'], p);
    const size = d.size === undefined ? undefined : num(d.size, [...path, 'size'], p, { int: true, min: 1 });
    const heldOut = d.heldOut === undefined ? undefined : num(d.heldOut, [...path, 'heldOut'], p, { int: true, min: 0 });
    const label = d.label === undefined ? undefined : str(d.label, [...path, 'label'], p);
    let fieldMap: FieldMapping | undefined;
    try {
      // Normalised to the object form, so `prompt=q,completion=a` and {prompt: 'q', completion: 'a'} are one cell.
      if (d.fieldMap !== undefined) fieldMap = fieldMapOption(d.fieldMap, [...path, 'fieldMap']);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      p.addAll([], err.problems);
    }
    if (spec) datasets.push({ spec, ...(size !== undefined && { size }), ...(heldOut !== undefined && { heldOut }), ...(label && { label }), ...(fieldMap && { fieldMap }) });
  });

  const models: string[] = [];
  list(raw.models, 'models', p).forEach((m, i) => {
    const path = ['models', i];
    const s = str(m, path, p);
    if (!s) return;
    const colon = s.indexOf(':');
    if (colon <= 0 || colon === s.length - 1) return p.add(path, `expected '<provider>:<model>' (e.g. 'local:stories260K'), got ${show(s)}`);
    if (lookup(catalog.providers, s.slice(0, colon), path, p)) models.push(s);
  });

  const defenses: ScenarioDefense[] = [];
  list(raw.defenses, 'defenses', p).forEach((d, i) => {
    const path = ['defenses', i];
    const entry = typeof d === 'string' ? { id: d } : d;
    if (!isRecord(entry)) return p.add(path, `expected a defense id or {id?, label?, options}, got ${show(d)}`);
    checkKeys(entry, ['id', 'label', 'options'], path, p);
    const id = entry.id === undefined ? 'vtune' : str(entry.id, [...path, 'id'], p);
    const label = entry.label === undefined ? undefined : str(entry.label, [...path, 'label'], p);
    const options = entry.options === undefined ? {} : entry.options;
    if (!isRecord(options)) return p.add([...path, 'options'], `expected an object, got ${show(options)}`);
    if (!id) return;
    const declared = catalog.defenses?.has(id) && isDefinition(catalog.defenses.get(id));
    if (!declared) {
      // A defense without a declaration (a bare factory): the vtune options every defense shares are checked here.
      const at = [...path, 'options'];
      if (typeof options.generator === 'string') lookup(catalog.generators, options.generator, [...at, 'generator'], p);
      if (options.count !== undefined) num(options.count, [...at, 'count'], p, { int: true, min: 1 });
      if (options.rate !== undefined) num(options.rate, [...at, 'rate'], p, { minExclusive: 0, max: 1 });
      if (options.alpha !== undefined) num(options.alpha, [...at, 'alpha'], p, { minExclusive: 0, max: 1 });
    }
    if (catalog.defenses && lookup(catalog.defenses, id, [...path, 'id'], p)) checkPlugin(catalog.defenses, id, options, path, p);
    defenses.push({ id, ...(label && { label }), options });
  });

  const attacks: ScenarioAttack[] = [];
  list(raw.attacks, 'attacks', p).forEach((a, i) => {
    const path = ['attacks', i];
    const entry = typeof a === 'string' ? { id: a } : a;
    if (!isRecord(entry)) return p.add(path, `expected an attack id or {id, label?, options?}, got ${show(a)}`);
    checkKeys(entry, ['id', 'label', 'options'], path, p);
    const id = str(entry.id, [...path, 'id'], p);
    const label = entry.label === undefined ? undefined : str(entry.label, [...path, 'label'], p);
    const options = entry.options === undefined ? {} : entry.options;
    if (!isRecord(options)) return p.add([...path, 'options'], `expected an object, got ${show(options)}`);
    if (!id) return;
    // The options are kept as written (defaults are not filled in): cell keys and run ids derive from them.
    if (lookup(catalog.attacks, id, typeof a === 'string' ? path : [...path, 'id'], p)) checkPlugin(catalog.attacks, id, options, path, p);
    attacks.push({ id, ...(label && { label }), options });
  });

  // The one hyper-parameter schema (src/plugins/hyper.ts): what passes here passes every cell.
  let hyper: HyperParams | undefined;
  const checkedHyper = checkHyper(raw.hyper);
  if (checkedHyper.ok) hyper = raw.hyper as HyperParams;
  else p.addAll(['hyper'], checkedHyper.problems);

  let concurrency: Record<string, number> | undefined;
  if (raw.concurrency !== undefined) {
    if (!isRecord(raw.concurrency)) p.add(['concurrency'], `expected {<provider>: <max concurrent cells>}, got ${show(raw.concurrency)}`);
    else {
      concurrency = {};
      for (const [provider, n] of Object.entries(raw.concurrency)) {
        if (!lookup(catalog.providers, provider, ['concurrency', provider], p)) continue;
        const v = num(n, ['concurrency', provider], p, { int: true, min: 1 });
        if (v !== undefined) concurrency[provider] = v;
      }
    }
  }

  let providerOptions: Record<string, Record<string, unknown>> | undefined;
  if (raw.providers !== undefined) {
    if (!isRecord(raw.providers)) p.add(['providers'], `expected {<provider>: {options}}, got ${show(raw.providers)}`);
    else {
      providerOptions = {};
      for (const [provider, o] of Object.entries(raw.providers)) {
        if (!lookup(catalog.providers, provider, ['providers', provider], p)) continue;
        if (!isRecord(o)) p.add(['providers', provider], `expected an options object, got ${show(o)}`);
        else if (Object.keys(o).some((k) => /key|token|secret|password/i.test(k))) {
          // Keys live in the environment (OPENAI_API_KEY, HF_TOKEN), never in a file that gets committed or recorded.
          p.add(['providers', provider], 'API keys and tokens do not belong in a scenario file; set them in the environment');
        } else {
          const def = catalog.providers.get(provider);
          if (isDefinition(def)) {
            const checked = def.check(o);
            if (!checked.ok) p.addAll(['providers', provider], checked.problems);
          }
          providerOptions[provider] = o;
        }
      }
    }
  }

  let utility: Scenario['utility'];
  if (raw.utility !== undefined) {
    if (raw.utility === false) utility = false;
    else if (!isRecord(raw.utility)) p.add(['utility'], `expected false or {maxRows?, task?, slackTokens?}, got ${show(raw.utility)}`);
    else {
      checkKeys(raw.utility, ['maxRows', 'task', 'slackTokens'], ['utility'], p);
      if (raw.utility.maxRows !== undefined) num(raw.utility.maxRows, ['utility', 'maxRows'], p, { int: true, min: 1 });
      if (raw.utility.slackTokens !== undefined) num(raw.utility.slackTokens, ['utility', 'slackTokens'], p, { int: true, min: 0 });
      if (raw.utility.task !== undefined && typeof raw.utility.task !== 'boolean') p.add(['utility', 'task'], `expected true or false, got ${show(raw.utility.task)}`);
      utility = raw.utility;
    }
  }

  let plugins: string[] | undefined;
  if (raw.plugins !== undefined) {
    plugins = [];
    if (!Array.isArray(raw.plugins)) p.add(['plugins'], `expected a list of module paths or package names, got ${show(raw.plugins)}`);
    else raw.plugins.forEach((m, i) => str(m, ['plugins', i], p) && plugins!.push(m as string));
  }

  for (const [path, values] of [
    ['datasets', datasets.map((d) => d.label ?? d.spec)],
    ['attacks', attacks.map((a) => attackLabel(a, attacks))],
    ['defenses', defenses.map((d) => defenseLabel(d, defenses))],
  ] as const) {
    const seen = new Set<string>();
    for (const v of values) {
      if (seen.has(v)) p.add([path], `two entries share the label ${show(v)}; give one a distinct 'label'`);
      seen.add(v);
    }
  }

  if (p.list.length > 0) throw new ConfigError(p.list, { file });
  return {
    name: name!,
    ...(description && { description }),
    seeds,
    datasets,
    models,
    defenses,
    attacks,
    hyper: hyper!,
    ...(concurrency && { concurrency }),
    ...(providerOptions && { providers: providerOptions }),
    ...(utility !== undefined && { utility }),
    ...(plugins && { plugins }),
  };
}

function list(v: unknown, path: string, p: Problems): unknown[] {
  if (Array.isArray(v) && v.length > 0) return v;
  p.add([path], `expected a non-empty list, got ${show(v)}`);
  return [];
}

/** The table label of an attack: its `label`, else its id, else id + options when the id repeats. */
export function attackLabel(a: ScenarioAttack, all: readonly ScenarioAttack[]): string {
  if (a.label) return a.label;
  if (all.filter((x) => x.id === a.id && !x.label).length <= 1) return a.id;
  return `${a.id}(${compactOptions(a.options)})`;
}

/** The table label of a defense configuration. */
export function defenseLabel(d: ScenarioDefense, all: readonly ScenarioDefense[]): string {
  if (d.label) return d.label;
  const o = d.options;
  const parts = [o.generator, o.nullMode, o.count !== undefined ? `n=${String(o.count)}` : o.rate !== undefined ? `rate=${String(o.rate)}` : undefined]
    .filter((x) => x !== undefined)
    .map(String);
  const base = parts.length > 0 ? `${d.id}:${parts.join('/')}` : d.id;
  if (all.filter((x) => !x.label && defenseLabel({ ...x, label: undefined, options: x.options }, []) === base).length <= 1) return base;
  return `${d.id}(${compactOptions(o)})`;
}

function compactOptions(o: Readonly<Record<string, unknown>>): string {
  return Object.keys(o)
    .sort()
    .map((k) => `${k}=${typeof o[k] === 'object' ? JSON.stringify(o[k]) : String(o[k])}`)
    .join(',');
}

/** A stable hash of a validated scenario (the run id of an unsharded run is derived from it). */
export function scenarioHash(s: Scenario): string {
  return createHash('sha256').update(canonicalJson(s)).digest('hex').slice(0, 12);
}

/** The scenario files shipped in scenarios/ (their names, without extension). */
function builtinScenarios(): string[] {
  const dir = join(repoRoot, 'scenarios');
  return existsSync(dir) ? readdirSync(dir).filter((f) => SCENARIO_EXT.test(f)).map((f) => f.replace(/\.[^.]+$/, '')).sort() : [];
}

const SCENARIO_EXT = /\.(ts|mts|json|js|mjs)$/;

/** What a scenario is, for messages about something that is not one. */
function whatIsAScenario(): string {
  return (
    "a scenario is one .ts file (export default defineScenario({...})) or .json file naming the matrix to run " +
    `(datasets × models × defenses × attacks × seeds); the built-in ones are in ${join(repoRoot, 'scenarios')} (${builtinScenarios().join(', ')})`
  );
}

/** Where a scenario name or path points: `default` → scenarios/default.ts (or .json). */
export function resolveScenarioPath(nameOrPath: string): string {
  const asPath = isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
  let found: string | undefined;
  if (/[\\/]/.test(nameOrPath) || SCENARIO_EXT.test(nameOrPath)) found = existsSync(asPath) ? asPath : undefined;
  else {
    // A bare name is a built-in scenario; failing that, a file or folder of that name here (to say what it is not).
    found = ['ts', 'json', 'js'].map((ext) => join(repoRoot, 'scenarios', `${nameOrPath}.${ext}`)).find((c) => existsSync(c));
    if (!found && existsSync(asPath)) found = asPath;
    if (!found) throw new ConfigError(`${unknownMessage('scenario', nameOrPath, builtinScenarios())} (or give a path to a .ts or .json file)`);
  }
  if (!found) throw new ConfigError(`${nameOrPath}: no such scenario file; ${whatIsAScenario()}`);
  if (statSync(found).isDirectory()) throw new ConfigError(`${nameOrPath}: is a folder, not a scenario file; ${whatIsAScenario()}`);
  if (!SCENARIO_EXT.test(found)) {
    const dataHint = /\.jsonl$/i.test(found) ? ` (a .jsonl file is a dataset: name it in a scenario's datasets, e.g. datasets: ['file:${nameOrPath}'])` : '';
    throw new ConfigError(`${nameOrPath}: not a scenario file${dataHint}; ${whatIsAScenario()}`);
  }
  return found;
}

/**
 * A scenario file as shown in messages and recorded in the manifest: relative to the repository when inside
 * it, else absolute. Decided with path.relative, so a sibling folder whose path merely starts with the
 * repository's path as a string (`/repo-other/x.json` next to `/repo`) is not taken for a file inside it.
 */
export function shownScenarioPath(file: string, root: string = repoRoot): string {
  const rel = relative(root, file);
  const inside = rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  return inside ? rel : file;
}

/**
 * Imports a .ts/.js scenario module. A module that does not compile is reported with its file, line and the
 * compiler's message: under tsx's loader hooks a syntax error otherwise surfaces as Node's "Cannot require()
 * ES Module … in a cycle", which names neither.
 */
async function importScenarioModule(file: string, shown: string): Promise<{ default?: unknown; scenario?: unknown }> {
  try {
    return (await import(pathToFileURL(file).href)) as { default?: unknown; scenario?: unknown };
  } catch (err) {
    if (/\.[mc]?ts$/.test(file)) {
      // tsx compiles the file again on its own and throws the compiler's diagnostic, naming file:line:column.
      // That diagnostic is quoted whole, without the loader's error as a cause: its "cycle" message misleads.
      const { tsImport } = await import('tsx/esm/api');
      const diagnostic = await tsImport(pathToFileURL(file).href, import.meta.url).then(
        () => undefined,
        (again: unknown) => (again instanceof Error && /Transform failed/.test(again.message) ? again.message : undefined),
      );
      if (diagnostic) throw new ConfigError(`${shown}: the scenario does not compile: ${diagnostic.replace(/^Transform failed with \d+ errors?:\s*/, '').trim()}`);
    }
    throw new ConfigError(`${shown}: the scenario module failed to load`, { cause: err });
  }
}

/** Loads and validates a scenario file (.ts/.js default export of defineScenario, or .json). */
export async function loadScenario(nameOrPath: string, catalog: Pick<Catalog, 'attacks' | 'defenses' | 'generators' | 'providers'>): Promise<{ scenario: Scenario; file: string }> {
  const file = resolveScenarioPath(nameOrPath);
  const shown = shownScenarioPath(file);
  let raw: unknown;
  if (extname(file) === '.json') {
    try {
      // A UTF-8 byte order mark (some editors write one) is not JSON: strip it.
      raw = JSON.parse(stripBom(readFileSync(file, 'utf8')));
    } catch (cause) {
      throw new ConfigError(`${shown}: not valid JSON (${(cause as Error).message})`, { cause });
    }
  } else {
    const mod = await importScenarioModule(file, shown);
    raw = mod.default ?? mod.scenario;
    if (raw === undefined) throw new ConfigError(`${shown}: export the scenario as the default export (export default defineScenario({...}))`);
  }
  if (isRecord(raw) && raw.plugins !== undefined) {
    // Before validation: the scenario's ids may name what these modules register.
    const { loadPlugins } = await import('../plugins/load.js');
    await loadPlugins(raw.plugins, { from: dirname(file), via: `${shown}: plugins` });
  }
  const scenario = validateScenario(raw, catalog, shown);
  if (basename(file).replace(/\.[^.]+$/, '') !== scenario.name && !/[\\/]/.test(nameOrPath)) {
    // A scenario named differently from its file would write its results somewhere unexpected.
    throw new ConfigError(`${shown}: name: expected '${basename(file).replace(/\.[^.]+$/, '')}' (the file's name), got '${scenario.name}'`);
  }
  return { scenario, file: shown };
}
