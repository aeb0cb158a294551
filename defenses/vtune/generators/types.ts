/**
 * The backdoor-generator plugin contract (DESIGN.md §5): a generator draws each backdoor's trigger and
 * signature, draws counterfactual signatures for the empirical null, and — when it supports the `generator`
 * null mode — states the exact bound qᵢ on the chance that a model independent of the secret hits.
 */
import type { Model, NullMode, Row } from '../../../src/types.js';
import type { Rng } from '../../../src/rng.js';

/** One planted backdoor: the trigger added to the prompt, and the signature the model should answer. */
export interface Backdoor {
  readonly trigger: string;
  readonly signature: string;
  /**
   * The planted row's whole completion, when it is longer than the signature (it starts with the signature;
   * verification counts only the signature). Default: the signature itself.
   */
  readonly completion?: string;
}

/** Everything a generator may use to draw backdoor number `index`. */
export interface DrawContext {
  /** A stream dedicated to this backdoor (or to this backdoor's counterfactuals). */
  readonly rng: Rng;
  /** The backdoor's number i (0-based). */
  readonly index: number;
  /** The host row the backdoor is attached to (its prompt is xᵢ). */
  readonly row: Row;
  /** The host row's index in the user's dataset. */
  readonly rowIndex: number;
  /** The user's whole dataset (splice draws from the other rows). */
  readonly rows: readonly Row[];
  /** The user-side generator model (lm-sampled). */
  readonly model?: Model;
  /** Where the trigger will be placed in the host prompt (template picks a sentence that reads well there). */
  readonly placement?: 'prefix' | 'suffix' | 'inline';
}

/** What a verifier needs to redraw counterfactuals later without the dataset or the generator model. */
export type CounterfactualSource =
  /** Counterfactuals depend only on the secret's seed and options: regenerated at verification. */
  | 'seed'
  /** Counterfactuals need the dataset, a model or a key: drawn at planting and kept in the secret. */
  | 'stored';

/** A backdoor generator, as returned by its factory. Options are validated by the factory. */
export interface BackdoorGenerator {
  readonly id: string;
  /** The null modes whose bound is valid for this generator's draws. */
  readonly nullModes: readonly NullMode[];
  /** The validated options, JSON-serialisable and free of keys: recorded in the secret. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly counterfactualSource: CounterfactualSource;
  /** Draws backdoor `ctx.index`. Deterministic given ctx.rng (and the key, for keyed). */
  draw(ctx: DrawContext): Promise<Backdoor>;
  /**
   * `m` signatures drawn exactly as `backdoor`'s was (same conditional distribution, independent draws), never
   * planted: the empirical null's counterfactuals. Deterministic given ctx.rng.
   */
  counterfactuals(ctx: DrawContext, backdoor: Backdoor, m: number): Promise<string[]>;
  /**
   * log10 qᵢ for the `generator` null mode: the largest total generator probability of the signatures that are
   * prefixes of any one output (DESIGN.md §3). Present exactly when nullModes includes 'generator'.
   */
  log10q?(ctx: DrawContext, backdoor: Backdoor): number;
}

/** A generator factory: options in (validated, with defaults), plugin out. */
export type GeneratorFactory = (options?: Record<string, unknown>) => BackdoorGenerator;
