/**
 * Option validation on zod schemas, shared by every plugin kind (src/plugins/define.ts), the scenario loader
 * and the hyper-parameter schema (src/plugins/hyper.ts): a value is checked against a schema and every problem
 * comes back as DATA — a field path (`['scorerOptions', 'flag', 'q']`) and a message in the project's
 * words ("expected a number in (0, 1], got 1.5"; "unknown option 'fracton'. Did you mean 'fraction'?"). Callers
 * prefix the path with their own (`attacks[2].options.`); nobody parses a message to find a path.
 *
 * Why zod 4 (rather than valibot, the other well-kept candidate): one schema declaration gives the
 * TypeScript type of the options (`z.input` for what a scenario may write, `z.output` for what the plugin
 * receives after defaults) — `defineScenario` type-checks attack options from it; its issues carry the path of
 * the bad field and the input (`reportInput`), with structured codes (`unrecognized_keys`, `invalid_value`
 * with the allowed values) from which "did you mean" is computed; `z.toJSONSchema` exports each plugin's
 * options, defaults and descriptions for `vtune-bench list` with no second table; and it is the most used and
 * actively maintained TypeScript schema library (zero dependencies), so plugin authors likely know it.
 * valibot's smaller bundle matters for browsers, not for a CLI.
 */
import { z } from 'zod';
import { type FieldPath, type Problem as OptionProblem, formatPath } from '../errors.js';
import { didYouMean, unknownMessage } from '../registry.js';

/** A path into an options object (keys and list indices) and one problem at it: the project's error types. */
export type { FieldPath, Problem as OptionProblem } from '../errors.js';

/** The outcome of checking a value: the parsed value (defaults applied) or every problem. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly OptionProblem[] };

/** `a.b[2].c` — how a path is shown in messages (src/errors.ts formatPath), after an optional prefix. */
export function showPath(path: FieldPath, prefix = ''): string {
  const rest = formatPath(path);
  return prefix === '' ? rest : rest === '' ? prefix : rest.startsWith('[') ? `${prefix}${rest}` : `${prefix}.${rest}`;
}

/** A value as quoted in messages. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Checks `value` against `schema`. Problems name the field path relative to the value; an unknown key gets
 * "did you mean" against the keys the schema declares, a bad enum value against its values.
 */
export function checkValue<S extends z.ZodType>(schema: S, value: unknown, what = 'option'): Checked<z.output<S>> {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return { ok: true, value: r.data };
  const problems: OptionProblem[] = [];
  for (const issue of r.error.issues) problems.push(...toProblems(schema, value, issue, what));
  return { ok: false, problems };
}

/** Turns a zod issue into problems in the project's words. */
function toProblems(root: z.ZodType, input: unknown, issue: z.core.$ZodIssue, what: string): OptionProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = objectKeys(schemaAt(root, path, input));
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownMessage(what, key, known) }));
    }
    case 'custom':
      return [{ path, message: issue.message }];
    case 'invalid_union': {
      // A discriminated union with an unknown discriminator: name the allowed values, with a did-you-mean.
      const options = 'options' in issue ? issue.options : undefined;
      if (issue.discriminator !== undefined && options) {
        const got = valueAt(input, path);
        const allowed = options.map(String);
        const hint = typeof got === 'string' ? didYouMean(got, allowed) : undefined;
        return [{ path, message: `expected ${oneOf(allowed)}, got ${show(got)}${hint ? `. Did you mean '${hint}'?` : ''}` }];
      }
      break;
    }
    case 'invalid_value': {
      const got = valueAt(input, path);
      const allowed = issue.values.map((v) => String(v));
      const hint = typeof got === 'string' ? didYouMean(got, allowed) : undefined;
      const sub = schemaAt(root, path, input);
      const words = (sub && metaExpected(sub)) ?? oneOf(issue.values);
      return [{ path, message: `expected ${words}, got ${show(got)}${hint ? `. Did you mean '${hint}'?` : ''}` }];
    }
    default:
      break;
  }
  const got = valueAt(input, path);
  const sub = schemaAt(root, path, input);
  const expected = sub ? expectation(sub) : undefined;
  if (expected) return [{ path, message: got === undefined ? `required: expected ${expected}` : `expected ${expected}, got ${show(got)}` }];
  return [{ path, message: `${issue.message}, got ${show(got)}` }];
}

/** 'a', 'b' or 'c' */
function oneOf(values: readonly unknown[]): string {
  const q = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  return q.length <= 1 ? (q[0] ?? '(nothing)') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

/** The value at `path` inside `input`, or undefined. */
export function valueAt(input: unknown, path: FieldPath): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; options?: z.ZodType[]; shape?: Record<string, z.ZodType>; valueType?: z.ZodType; discriminator?: string };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Strips optional/default/nullable/readonly/pipe wrappers. */
export function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = defOf(s);
    if (d.innerType && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else return s;
  }
}

/** The sub-schema that validates `path` (following the input through unions), or undefined. */
export function schemaAt(root: z.ZodType, path: FieldPath, input?: unknown): z.ZodType | undefined {
  let s: z.ZodType | undefined = root;
  let v: unknown = input;
  for (const key of path) {
    if (!s) return undefined;
    s = pickUnionOption(unwrap(s), v);
    const d = defOf(s);
    if (d.type === 'object' && d.shape) s = d.shape[String(key)];
    else if (d.type === 'array' && d.element) s = d.element;
    else if (d.type === 'record' && d.valueType) s = d.valueType;
    else return undefined;
    v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[key] : undefined;
  }
  if (!s) return undefined;
  // Keep the wrappers (their meta and description) unless the input picks one option of a union.
  const picked = pickUnionOption(unwrap(s), v);
  return picked === unwrap(s) ? s : picked;
}

/** For a union: the option the input was meant for (the discriminator's match, else the first object option). */
function pickUnionOption(s: z.ZodType, v: unknown): z.ZodType {
  const d = defOf(s);
  if (d.type !== 'union' || !d.options) return s;
  const objects = d.options.map(unwrap).filter((o) => defOf(o).type === 'object');
  if (d.discriminator && v !== null && typeof v === 'object') {
    const want = (v as Record<string, unknown>)[d.discriminator];
    const hit = objects.find((o) => {
      const disc = defOf(o).shape?.[d.discriminator!];
      return disc !== undefined && (defOf(disc) as { values?: unknown[] }).values?.includes(want);
    });
    if (hit) return hit;
  }
  return v !== null && typeof v === 'object' && objects.length === 1 ? objects[0]! : s;
}

/** The keys an object schema declares (for "did you mean"). */
export function objectKeys(s: z.ZodType | undefined): string[] {
  if (!s) return [];
  const d = defOf(unwrap(s));
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

/** JSON Schema of a (sub-)schema's input side; what cannot be represented is left open. */
export function inputJsonSchema(s: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/**
 * What a schema expects, in words: "an integer ≥ 1", "a number in (0, 1]", "'onion' or 'strip'", "true or
 * false". A schema may say it itself with `.meta({ expected: '…' })`. Derived from the JSON Schema export, so
 * the words and `list` agree.
 */
export function expectation(s: z.ZodType): string | undefined {
  return metaExpected(s) ?? describeJson(inputJsonSchema(s));
}

/** The words a schema declares for itself (`.meta({ expected })`), on it or on what it wraps. */
function metaExpected(s: z.ZodType): string | undefined {
  for (const x of [s, unwrap(s)]) {
    const meta = x.meta() as { expected?: unknown } | undefined;
    if (typeof meta?.expected === 'string') return meta.expected;
  }
  return undefined;
}

const HUGE = Number.MAX_SAFE_INTEGER;

/** Words for a JSON Schema node (see `expectation`). */
export function describeJson(j: Record<string, unknown>): string | undefined {
  if (typeof j.expected === 'string') return j.expected;
  const alts = (j.anyOf ?? j.oneOf) as Record<string, unknown>[] | undefined;
  if (alts) {
    const parts = alts.map(describeJson);
    return parts.some((p) => p === undefined) ? undefined : oneOfWords(parts as string[]);
  }
  if (Array.isArray(j.enum)) return oneOf(j.enum);
  if (j.const !== undefined) return oneOf([j.const]);
  switch (j.type) {
    case 'number':
    case 'integer': {
      const noun = j.type === 'integer' ? 'an integer' : 'a number';
      const lo = typeof j.exclusiveMinimum === 'number' ? { v: j.exclusiveMinimum, open: true } : typeof j.minimum === 'number' && j.minimum > -HUGE ? { v: j.minimum, open: false } : undefined;
      const hi = typeof j.exclusiveMaximum === 'number' ? { v: j.exclusiveMaximum, open: true } : typeof j.maximum === 'number' && j.maximum < HUGE ? { v: j.maximum, open: false } : undefined;
      if (lo && hi) return `${noun} in ${lo.open ? '(' : '['}${lo.v}, ${hi.v}${hi.open ? ')' : ']'}`;
      if (lo) return `${noun} ${lo.open ? '>' : '≥'} ${lo.v}`;
      if (hi) return `${noun} ${hi.open ? '<' : '≤'} ${hi.v}`;
      return noun;
    }
    case 'boolean':
      return 'true or false';
    case 'string':
      return typeof j.minLength === 'number' && j.minLength > 0 ? (j.minLength === 1 ? 'a non-empty string' : `a string of at least ${j.minLength} characters`) : 'a string';
    case 'array': {
      const item = j.items && typeof j.items === 'object' ? describeJson(j.items as Record<string, unknown>) : undefined;
      return item ? `a list of ${item.replace(/^(an?|one of) /, '')}${/^(an?) /.test(item) ? 's' : ''}` : 'a list';
    }
    case 'object': {
      const props = j.properties as Record<string, unknown> | undefined;
      return props && Object.keys(props).length > 0 ? `{${Object.keys(props).join(', ')}}` : 'an object';
    }
    case 'null':
      return 'null';
    default:
      return undefined;
  }
}

function oneOfWords(parts: readonly string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/** One option of a plugin, for `vtune-bench list` and help text. */
export interface OptionHelp {
  readonly name: string;
  /** What values it takes ("a number in (0, 1]"). */
  readonly expected: string;
  readonly required: boolean;
  /** The default, when the schema declares one (some defaults depend on other options: see `description`). */
  readonly default?: unknown;
  readonly description?: string;
}

/** Help for every option an object schema declares, in declaration order. */
export function optionsHelp(schema: z.ZodType): OptionHelp[] {
  const d = defOf(unwrap(schema));
  if (d.type !== 'object' || !d.shape) return [];
  return Object.entries(d.shape).map(([name, s]) => {
    const j = inputJsonSchema(s);
    const optional = (s as unknown as { _zod: { optin?: string } })._zod.optin !== undefined;
    const description = s.description ?? unwrap(s).description;
    return {
      name,
      expected: expectation(s) ?? 'anything',
      required: !optional,
      ...(j.default !== undefined ? { default: j.default } : {}),
      ...(description ? { description } : {}),
    };
  });
}
