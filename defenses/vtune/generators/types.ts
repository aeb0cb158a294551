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
  /**
   * Why `row` cannot host a backdoor of this generator (template: an answer with nothing to refill), or
   * undefined when it can. Plant then moves the backdoor to a seeded spare row, as it does for a row too long for
   * the context, and refuses, naming the rows, only when none is left. Absent: every row can host.
   */
  cannotHost?(row: Row, rows: readonly Row[]): string | undefined;
  /**
   * 'modify' when the generator's backdoors rewrite their host rows and draw no trigger (in-place): a copy would
   * leave the host row beside its rewritten twin under the same prompt. Plant refuses 'copy' for such draws, and
   * calibration plants them in place. Absent: either insertion works.
   */
  readonly insertion?: 'modify';
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
  /**
   * The `generator` bound when the options alone determine it (no dataset, key or model): verification
   * recomputes it and refuses a secret whose stored bound disagrees.
   */
  boundFromOptions?(backdoor: Backdoor): number;
  /**
   * log10 qᵢ for the `conditional` null (DESIGN.md §3), for each item: an upper bound on the probability that this
   * generator, drawing exactly as it drew the backdoor's signature (same host row and trigger), draws a signature
   * that is a prefix of the output (leading whitespace trimmed, the hit rule of `isHit`) or extends it (the
   * output may have been cut by the token budget). Present exactly when nullModes includes 'conditional'.
   */
  conditionalLog10q?(items: readonly ConditionalItem[]): Promise<ConditionalBound[]>;
  /** The generator draws from `DrawContext.model`: the secret records that model's id, and verification needs it. */
  readonly usesModel?: boolean;
}

/** What scoring a backdoor's draw against an observed output needs: the host row and the generator model. */
export type ScoreContext = Pick<DrawContext, 'row' | 'model'>;

/** One backdoor to score for the `conditional` null. */
export interface ConditionalItem {
  readonly ctx: ScoreContext;
  readonly backdoor: Backdoor;
  /** The verified model's output for this backdoor's query. */
  readonly output: string;
}

/** log10 of an upper bound on qᵢ; whether it is exact; whether a search budget ran out (it may then be loose). */
export interface ConditionalBound {
  readonly log10q: number;
  readonly exact: boolean;
  readonly budgetExhausted?: boolean;
}

/** A generator factory: options in (validated, with defaults), plugin out. */
export type GeneratorFactory = (options?: Record<string, unknown>) => BackdoorGenerator;
