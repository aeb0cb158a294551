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
 * `options` as they may be recorded under `schema` (a plugin's options schema): each declared secret is
 * replaced by its fingerprint under its recorded name, nested plugin options likewise. No schema, or no
 * secret given: the same object.
 */
export function recordedOptions<T extends Readonly<Record<string, unknown>>>(schema: z.ZodType | undefined, options: T): T | Record<string, unknown> {
  if (!(schema instanceof z.ZodObject)) return options;
  const shape = schema.shape as Record<string, z.ZodType>;
  let out: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(options)) {
    const field = shape[name];
    const decl = field && declared.get(field);
    if (!decl || value === undefined) continue;
    if ('optionsOf' in decl) {
      if (!isRecord(value)) continue;
      const inner = recordedOptions(decl.optionsOf(options), value);
      if (inner !== value) (out ??= { ...options })[name] = inner;
      continue;
    }
    if (typeof value === 'string' && decl.published?.includes(value)) continue;
    // Seen once, masked in every later message too (src/errors.ts describeError), whatever quotes it.
    if (typeof value === 'string') registerSecret(value);
    out ??= { ...options };
    delete out[name];
    // A value that is not a string fails validation anyway; it is not quoted either.
    out[decl.recordedAs] = typeof value === 'string' ? decl.fingerprint(value) : '(not a string)';
  }
  return out ?? options;
}

/** The options schema of a registry entry, when it is a declared plugin. */
export function schemaOf(registry: { has(id: string): boolean; get(id: string): unknown } | undefined, id: string): z.ZodType | undefined {
  if (!registry?.has(id)) return undefined;
  const def = registry.get(id);
  return isDefinition(def) ? def.options : undefined;
}
