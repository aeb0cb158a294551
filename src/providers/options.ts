/**
 * What the providers' declarations share (src/providers/{local,openai,hf,command}.ts): option pieces, and
 * `creatorOf`, which makes a module's `create*Provider` from its declaration. Each provider declares its options
 * once with `defineProvider`, and the declaration is its only option validation — its `create*` function IS the
 * declaration's factory. Only what a schema cannot see is checked when it opens: values read from the
 * environment (a key, a default base URL, a template) and rules that involve them; each such check says so
 * where it stands.
 */
import { type OptionsSchema, type PluginDefinition, type ProviderMeta, z } from '../plugins/define.js';
import type { Logger } from '../types.js';

/**
 * A provider module's `create*Provider(options)`, made from its declaration (`defineProvider`, called in the
 * module itself so that the declaration names that file as its source): it validates `options` as written (all
 * optional; none is `{}`) by the declaration, then opens the provider. A bad option is a rejected promise (the
 * declaration's ConfigError, naming the option), never a synchronous throw.
 */
export function creatorOf<S extends OptionsSchema, P>(declared: PluginDefinition<'provider', string, S, Promise<P>, ProviderMeta>): (options?: z.input<S>) => Promise<P> {
  return async (options) => await declared(options);
}

/** An integer ≥ 1 (a concurrency, a thread count); optional, or with a default. */
export function positiveIntOption(what: string): z.ZodOptional<z.ZodInt>;
export function positiveIntOption(what: string, dflt: number): z.ZodDefault<z.ZodInt>;
export function positiveIntOption(what: string, dflt?: number): z.ZodType {
  return dflt === undefined ? z.int().min(1).optional().describe(what) : z.int().min(1).default(dflt).describe(what);
}

/** A duration in milliseconds, > 0; optional, or with a default. */
export function durationOption(what: string): z.ZodOptional<z.ZodNumber>;
export function durationOption(what: string, dflt: number): z.ZodDefault<z.ZodNumber>;
export function durationOption(what: string, dflt?: number): z.ZodType {
  return dflt === undefined ? z.number().gt(0).optional().describe(what) : z.number().gt(0).default(dflt).describe(what);
}

/** An http(s) URL. */
export const urlOption = (what: string) => z.string().regex(/^https?:\/\/\S+$/).meta({ expected: 'an http(s) URL' }).optional().describe(what);

/** Code only (JSON cannot hold it): where warnings and retries are logged. */
export const loggerOption = () =>
  z
    .custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).warn === 'function')
    .meta({ expected: 'a logger ({warn, info, debug})' })
    .optional()
    .describe('code only: where warnings and retries are logged (default: warnings on stderr)');

/** Code only: the environment to read keys and defaults from (tests inject their own). */
export const environmentOption = () => z.record(z.string(), z.string().optional()).optional().describe('code only: the environment to read (default process.env)');

/** The retry policy of HTTP calls (src/providers/http.ts `RetryPolicy`), any subset; the rest are defaults. */
export const retryOptions = z
  .object({
    maxAttempts: z.int().min(1).describe('attempts in total, the first included'),
    maxTotalMs: z.number().gt(0).describe('no new attempt after this long since the first'),
    baseDelayMs: z.number().min(0).describe('backoff scale: attempt a sleeps uniform[0, min(maxDelayMs, baseDelayMs·2^a)]'),
    maxDelayMs: z.number().min(0).describe('longest sleep between attempts'),
    timeoutMs: z.number().gt(0).describe('per-attempt timeout'),
  })
  .partial()
  .strict();

/** The `retry` option of a networked provider. */
export const retryOption = () => retryOptions.optional().describe('retry policy of HTTP calls (src/providers/http.ts; default 6 attempts within 2 min)');
