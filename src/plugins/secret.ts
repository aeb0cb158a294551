/**
 * Secret options: an option a plugin declares secret (a user key) never reaches a record, a label, a log line
 * or an error message. The plugin declares the option's schema with `secretOption(schema, {...})`: the name it
 * is recorded as and a public fingerprint (keyed: `key` → `keyFingerprint`); `recordedOptions` then gives the
 * options as they may be written down. An option holding another plugin's options (vtune's
 * `generatorOptions`) is declared with `nestedOptions`, and its secrets are redacted by that plugin's declaration.
 *
 * Options without a secret come back as the very same object, so every hash of them (cell keys, run ids,
 * calibration configs) is unchanged. A value the plugin declares `published` (a benchmark key written in a
 * committed scenario) is not a secret and is kept as written.
 *
 * Options handed to another process (a queue job) go through `withheldOptions`: each secret keeps its name and
 * holds a reference to its fingerprint; the process that runs them holds the values itself and puts them back
 * with `restoredOptions`, which names the option and fingerprint it cannot supply (never a value).
 */
import { z } from 'zod';
import { registerSecret } from '../errors.js';
import { isDefinition } from './define.js';

/** A secret option: recorded as `recordedAs`, holding `fingerprint(value)`. */
export interface SecretOption {
  readonly recordedAs: string;
  readonly fingerprint: (value: string) => string;
  /** Values published by the project (not secrets): recorded as written. */
  readonly published?: readonly string[];
}

/** An option that holds another plugin's options: the schema of those options, given the parent options. */
export interface NestedOptions {
  readonly optionsOf: (parent: Readonly<Record<string, unknown>>) => z.ZodType | undefined;
}

/** The declarations, by option schema (kept apart from zod's metadata: functions have no place in the JSON Schema export). */
const declared = new WeakMap<z.ZodType, SecretOption | NestedOptions>();

/** Declares an option secret; returns the schema (use it as the option's schema, last in its chain). */
export function secretOption<S extends z.ZodType>(schema: S, declaration: SecretOption): S {
  declared.set(schema, declaration);
  return schema;
}

/** Declares an option that holds another plugin's options; returns the schema. */
export function nestedOptions<S extends z.ZodType>(schema: S, declaration: NestedOptions): S {
  declared.set(schema, declaration);
  return schema;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What becomes of one declared secret option's value (`path`: the option's name, under its nesting options):
 * a new name and value, or undefined to keep it as written.
 */
type SecretRewrite = (value: unknown, declaration: SecretOption, path: readonly string[]) => { readonly name: string; readonly value: unknown } | undefined;

/**
 * The one walk over `options` under `schema`: each declared secret option given to `rewrite`, nested plugin
 * options walked by their own plugin's declaration. Nothing rewritten: the same object.
 */
function rewriteSecrets<T extends Readonly<Record<string, unknown>>>(schema: z.ZodType | undefined, options: T, rewrite: SecretRewrite, at: readonly string[] = []): T | Record<string, unknown> {
  if (!(schema instanceof z.ZodObject)) return options;
  const shape = schema.shape as Record<string, z.ZodType>;
  let out: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(options)) {
    const field = shape[name];
    const decl = field && declared.get(field);
    if (!decl || value === undefined) continue;
    if ('optionsOf' in decl) {
      if (!isRecord(value)) continue;
      const inner = rewriteSecrets(decl.optionsOf(options), value, rewrite, [...at, name]);
      if (inner !== value) (out ??= { ...options })[name] = inner;
      continue;
    }
    const next = rewrite(value, decl, [...at, name]);
    if (!next) continue;
    out ??= { ...options };
    delete out[name];
    out[next.name] = next.value;
  }
  return out ?? options;
}

/** A value the project publishes (not a secret), or the fingerprint of a secret one (registered for masking). */
function fingerprintOf(value: unknown, decl: SecretOption): string | undefined {
  if (typeof value === 'string' && decl.published?.includes(value)) return undefined;
  // Seen once, masked in every later message too (src/errors.ts describeError), whatever quotes it.
  if (typeof value === 'string') registerSecret(value);
  // A value that is not a string fails validation anyway; it is not quoted either.
  return typeof value === 'string' ? decl.fingerprint(value) : '(not a string)';
}

/**
 * `options` as they may be recorded under `schema` (a plugin's options schema): each declared secret is
 * replaced by its fingerprint under its recorded name, nested plugin options likewise. No schema, or no
 * secret given: the same object.
 */
export function recordedOptions<T extends Readonly<Record<string, unknown>>>(schema: z.ZodType | undefined, options: T): T | Record<string, unknown> {
  return rewriteSecrets(schema, options, (value, decl) => {
    const fingerprint = fingerprintOf(value, decl);
    return fingerprint === undefined ? undefined : { name: decl.recordedAs, value: fingerprint };
  });
}

/**
 * What a secret option holds where its value is withheld (a queue job): its fingerprint under its recorded
 * name, `{ $secret: { keyFingerprint: '…' } }`. Whoever runs the options supplies the value (restoredOptions).
 */
export interface SecretReference {
  readonly $secret: Readonly<Record<string, string>>;
}

const isReference = (v: unknown): v is SecretReference =>
  isRecord(v) && Object.keys(v).length === 1 && isRecord(v.$secret) && Object.values(v.$secret).every((x) => typeof x === 'string');

/**
 * `options` to hand to another process that holds the secrets itself (a queue worker): each declared secret
 * option keeps its name and holds a SecretReference instead of its value; published values stay as written.
 * No secret given: the same object.
 */
export function withheldOptions<T extends Readonly<Record<string, unknown>>>(schema: z.ZodType | undefined, options: T): T | Record<string, unknown> {
  return rewriteSecrets(schema, options, (value, decl, path) => {
    const fingerprint = fingerprintOf(value, decl);
    return fingerprint === undefined ? undefined : { name: path[path.length - 1]!, value: { $secret: { [decl.recordedAs]: fingerprint } } satisfies SecretReference };
  });
}

/** A withheld secret the holder of `held` cannot supply: which option, which fingerprint, and what is held instead. */
export interface MissingSecret {
  /** The option, as `generatorOptions.key`. */
  readonly option: string;
  /** `keyFingerprint=1a2b…`: the fingerprint the option needs. */
  readonly expected: string;
  /** The fingerprints (by the same declaration) of the values held, none when nothing is held. */
  readonly held: readonly string[];
}

/**
 * `options` (from withheldOptions) with each SecretReference replaced by the value in `held` whose fingerprint
 * matches; when none does, the first such secret as `missing`. Values given as written (published ones) stay.
 */
export function restoredOptions<T extends Readonly<Record<string, unknown>>>(
  schema: z.ZodType | undefined,
  options: T,
  held: readonly string[],
): { readonly options: T | Record<string, unknown> } | { readonly missing: MissingSecret } {
  let missing: MissingSecret | undefined;
  const restored = rewriteSecrets(schema, options, (value, decl, path) => {
    if (!isReference(value) || missing) return undefined;
    const expected = value.$secret[decl.recordedAs];
    const found = expected === undefined ? undefined : held.find((h) => decl.fingerprint(h) === expected);
    if (found !== undefined) return { name: path[path.length - 1]!, value: found };
    missing = { option: path.join('.'), expected: `${decl.recordedAs}=${expected ?? '(none)'}`, held: held.map((h) => `${decl.recordedAs}=${decl.fingerprint(h)}`) };
    return undefined;
  });
  return missing ? { missing } : { options: restored };
}

/** The options schema of a registry entry, when it is a declared plugin. */
export function schemaOf(registry: { has(id: string): boolean; get(id: string): unknown } | undefined, id: string): z.ZodType | undefined {
  if (!registry?.has(id)) return undefined;
  const def = registry.get(id);
  return isDefinition(def) ? def.options : undefined;
}
