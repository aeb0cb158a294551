/**
 * What a model wrapper passes through to the model it wraps, in one place. A wrapper (an attack's served model:
 * lookup-wrapper's `lookupModel`, input-routing's `routedModel`, cleangen's `cleanGenModel`) sets its own `id`
 * and `capabilities` and replaces `generate`; `forwarded(inner)` gives it every other method, each only when
 * `inner` has it, called on `inner` with the caller's arguments unchanged (options and their cancel signal
 * included).
 *
 * Every optional member of `Model` is named below, forwarded or not (with the reason), and the compiler rejects
 * a member added to `Model` that is in neither list: a new model method is forwarded by adding its name to
 * FORWARDED, and every wrapper then passes it through. test/core/forward.test.ts checks each wrapper against a
 * model that has every member.
 */
import type { Model } from '../types.js';

/** The methods a wrapper passes through to the model it wraps. */
export const FORWARDED = ['score', 'embed', 'countTokens'] as const;

/** A forwarded method's name. */
export type Forwarded = (typeof FORWARDED)[number];

/** The optional members of `Model` a wrapper does not pass through, and why. */
export const NOT_FORWARDED = {
  sampling: "token-level access to the wrapped model's `generate`, which the wrapper replaces: it would describe answers the wrapper does not give",
  dispose: 'the owner of the wrapped model (the cell that opened or trained it) disposes it, not whoever holds the wrapper',
  contextLength: 'not every answer of the wrapper comes from the wrapped model (a looked-up signature, the base model), so its limit is not the wrapper\'s',
  unavailable: 'goes with `capabilities`, which each wrapper sets itself',
} as const;

/** The keys of `T` whose members are optional. */
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

/** An optional member of `Model` in neither list (never, or the compiler names it below). */
type Unlisted = Exclude<OptionalKeys<Model>, Forwarded | keyof typeof NOT_FORWARDED>;
const everyOptionalMemberListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyOptionalMemberListed;

/** The methods of FORWARDED that `inner` has, each calling `inner`'s with the same arguments. */
export function forwarded(inner: Model): Pick<Model, Forwarded> {
  const out: { -readonly [K in Forwarded]?: Model[K] } = {};
  for (const name of FORWARDED) {
    const method = inner[name] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof method === 'function') out[name] = ((...args: unknown[]) => method.apply(inner, args)) as never;
  }
  return out;
}
