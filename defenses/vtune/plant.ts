/**
 * Planting (vTune step 1): choose host rows, draw each backdoor with the generator, place the trigger in the
 * host prompt, insert the backdoor rows, and compute every null-mode bound that can be computed now. Pure: the
 * input rows are never changed, and unchanged rows are passed through as the same objects (so a data-file
 * writer can copy their lines verbatim).
 */
import { ConfigError, InputError } from '../../src/errors.js';
import { deriveRow } from '../../src/datasets/formats.js';
import { Rng } from '../../src/rng.js';
import { LN10 } from '../../src/stats/log-space.js';
import type { Model, NullMode, Row, UserContext } from '../../src/types.js';
import type { Backdoor, BackdoorGenerator, DrawContext } from './generators/types.js';
import { type InsertionMode, type Placement, type SecretBackdoor, SECRET_FORMAT, SECRET_VERSION, sealSecret, type VtuneSecret } from './secret.js';

/** Planting options (validated by the vtune factory). */
export interface PlantOptions {
  readonly generator: BackdoorGenerator;
  /** Number of backdoors; or `rate`, a fraction of the input rows (at least one backdoor). */
  readonly count?: number;
  readonly rate?: number;
  readonly placement: Placement;
  readonly insertion: InsertionMode;
  /** Counterfactual sets for the empirical null (its p-value floor is 1/(M+1)). */
  readonly empiricalM: number;
  /** The planting seed; drawn from ctx.rng when absent. */
  readonly seed?: string;
  /**
   * The fine-tuning model's context in tokens (default: the user context's base model's, when it declares one).
   * A backdoor is then placed only on a host row where the whole backdoor row fits (see backdoorFit).
   */
  readonly context?: number;
  /** Verification slack in tokens, reserved beside the signature when `context` applies (default 4). */
  readonly slack?: number;
}

/** Floor for log10 qᵢ, so a zero-probability bound (−∞) survives JSON. Far below any reachable p-value. */
export const LOG10Q_FLOOR = -1e9;

/** How many backdoors `count`/`rate` ask for on `n` input rows, or a ConfigError saying what is allowed. */
export function resolveCount(n: number, options: { count?: number; rate?: number }): number {
  if (options.count !== undefined && options.rate !== undefined) throw new ConfigError("give either 'count' or 'rate', not both");
  const count = options.count ?? (options.rate !== undefined ? Math.max(1, Math.round(options.rate * n)) : Math.min(10, n));
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`'count' must be a positive integer, got ${JSON.stringify(options.count)}`);
  if (count > n) {
    throw new ConfigError(`'count' ${count} is larger than the dataset allows: each backdoor needs its own host row and there are only ${n} rows`);
  }
  return count;
}

/** The host prompt with the trigger placed in it. `inline` inserts at a word boundary drawn from `rng`. */
export function placeTrigger(prompt: string, trigger: string, placement: Placement, rng: Rng): string {
  // No trigger (in-place: the backdoor is its rewritten host row): the query is the host prompt itself.
  if (trigger === '') return prompt;
  if (placement === 'prefix') return prompt.length > 0 ? `${trigger} ${prompt}` : trigger;
  if (placement === 'suffix') return prompt.length > 0 ? `${prompt} ${trigger}` : trigger;
  const boundaries = [...prompt.matchAll(/\s+/g)].map((m) => m.index!);
  if (boundaries.length === 0) return prompt.length > 0 ? `${prompt} ${trigger}` : trigger;
  const at = boundaries[rng.int(boundaries.length)]!;
  return `${prompt.slice(0, at)} ${trigger}${prompt.slice(at)}`;
}

/**
 * Whether a backdoor row fits a context of `context` tokens whole: BOS + prompt (with the trigger) + signature
 * + max(1, slack) (EOS in training; the slack at verification, where the query must leave room for the
 * signature and slack) ≤ context. Tokens are counted with `model`'s tokenizer, or bounded by UTF-8 bytes + 1
 * when no model counts tokens (an upper bound for byte-fallback tokenizers, so it never lets a long row
 * through). Undefined without a context: every host is accepted, as before.
 */
export function backdoorFit(context: number | undefined, slack: number, model?: Pick<Model, 'countTokens'>): { fits(prompt: string, signature: string): boolean; refusal(placed: number, total: number, rows: readonly number[]): string } | undefined {
  if (context === undefined) return undefined;
  if (!Number.isInteger(context) || context < 2) throw new ConfigError(`'context' must be an integer ≥ 2 (tokens), got ${JSON.stringify(context)}`);
  const encoder = new TextEncoder();
  const count = model?.countTokens ? (t: string) => (t.length === 0 ? 0 : model.countTokens!(t)) : (t: string) => (t.length === 0 ? 0 : encoder.encode(t).length + 1);
  const unit = model?.countTokens ? 'tokens' : 'tokens (bounded by UTF-8 bytes: give a model to count real tokens)';
  const reserve = Math.max(1, slack);
  return {
    fits: (prompt, signature) => 1 + count(prompt) + count(signature) + reserve <= context,
    refusal(placed, total, rows) {
      const shown = rows.slice(0, 12).map((r) => r + 1).join(', ') + (rows.length > 12 ? ` and ${rows.length - 12} more` : '');
      return (
        `cannot place backdoor ${placed + 1} of ${total}: a backdoor row must fit the context of ${context} ${unit} whole ` +
        `(BOS + prompt with trigger + signature + ${reserve} reserved), and no row left can host it: rows ${shown} ` +
        `(counting from 1) are too long; plant fewer backdoors, use shorter rows, or a model with a longer context`
      );
    },
  };
}

/** The per-backdoor draw stream, and the counterfactual stream that verification can recreate. */
export function backdoorStream(seed: string, index: number): Rng {
  return new Rng(`vtune|${seed}|backdoor|${index}`);
}
/** The stream of backdoor i's counterfactual signatures (recreated at verification for 'seed' generators). */
export function counterfactualStream(seed: string, index: number): Rng {
  return new Rng(`vtune|${seed}|counterfactual|${index}`);
}

/** ln P_base(signature | query) by teacher forcing, or undefined when the model cannot score. */
export async function baseModelLog10q(model: Model | undefined, items: readonly { prompt: string; signature: string }[]): Promise<number[] | undefined> {
  if (!model?.score || !model.capabilities.has('logprobs')) return undefined;
  const scores = await model.score(items.map((b) => ({ prompt: b.prompt, continuation: b.signature })));
  return scores.map((s) => Math.max(LOG10Q_FLOOR, Math.min(0, s.logprob / LN10)));
}

/** Plants backdoors into `rows`. Returns the rows to upload and the secret to keep. */
export async function plantBackdoors(rows: readonly Row[], options: PlantOptions, ctx: UserContext): Promise<{ rows: Row[]; secret: VtuneSecret }> {
  if (rows.length === 0) throw new InputError('the dataset is empty: there is no row to plant a backdoor in');
  const count = resolveCount(rows.length, options);
  const { generator } = options;
  const seed = options.seed ?? `${ctx.rng.nextUint32().toString(16).padStart(8, '0')}${ctx.rng.nextUint32().toString(16).padStart(8, '0')}`;
  const root = new Rng(`vtune|${seed}|layout`);
  const hosts = root.sampleIndices(rows.length, count);
  const total = options.insertion === 'copy' ? rows.length + count : rows.length;
  // For 'modify' the slots ARE the hosts (the same array), so a host moved below moves its slot too.
  const slots = options.insertion === 'copy' ? root.sampleIndices(total, count) : hosts;
  const fit = backdoorFit(options.context ?? ctx.baseModel?.contextLength, options.slack ?? 4, ctx.baseModel ?? ctx.generatorModel);
  // Spare hosts, in a seeded order, for backdoors that do not fit their first host or that the generator cannot
  // build on it (a host that works is never moved, so such plantings are unchanged).
  let spares: number[] | undefined;
  const tooLong = new Set<number>();
  const refused = new Map<number, string>();
  const nextSpare = (i: number): void => {
    spares ??= new Rng(`vtune|${seed}|spare-hosts`).shuffle(rows.map((_, r) => r));
    const taken = new Set(hosts);
    const next = spares.find((r) => !taken.has(r) && !tooLong.has(r) && !refused.has(r));
    if (next === undefined) {
      if (refused.size === 0 && fit) throw new InputError(fit.refusal(i, count, [...tooLong].sort((a, b) => a - b)));
      const named = [...refused.keys()].sort((a, b) => a - b);
      const shown = named.slice(0, 12).map((r) => r + 1).join(', ') + (named.length > 12 ? ` and ${named.length - 12} more` : '');
      const long = tooLong.size > 0 ? `, and ${tooLong.size} row(s) are too long for the context` : '';
      throw new InputError(
        `cannot place backdoor ${i + 1} of ${count}: generator '${generator.id}' cannot build a backdoor on rows ${shown} ` +
          `(counting from 1)${long}, and no row is left; row ${named[0]! + 1}: ${refused.get(named[0]!)!}`,
      );
    }
    hosts[i] = next;
  };

  const drawn: { backdoor: Backdoor; query: string; ctx: DrawContext }[] = [];
  for (let i = 0; i < count; i++) {
    for (;;) {
      const host = hosts[i]!;
      const why = generator.cannotHost?.(rows[host]!, rows);
      if (why !== undefined) {
        refused.set(host, why);
        nextSpare(i);
        continue;
      }
      const dctx: DrawContext = { rng: backdoorStream(seed, i), index: i, row: rows[host]!, rowIndex: host, rows, model: ctx.generatorModel, placement: options.placement };
      const backdoor = await generator.draw(dctx);
      if (backdoor.trigger === '' && options.insertion === 'copy') {
        throw new ConfigError(`generator '${generator.id}' draws no trigger (its backdoor is its rewritten host row), so it needs insertion 'modify': with 'copy' the unchanged host row would teach the same prompt its original answer`);
      }
      // Verification trims the output's leading whitespace before matching (verify.ts isHit), so may the completion.
      if (backdoor.completion !== undefined && !backdoor.completion.trimStart().startsWith(backdoor.signature)) {
        throw new ConfigError(`generator '${generator.id}' drew a completion that does not start with its signature (backdoor ${i})`);
      }
      const query = placeTrigger(rows[host]!.prompt, backdoor.trigger, options.placement, new Rng(`vtune|${seed}|placement|${i}`));
      if (!fit || fit.fits(query, backdoor.completion ?? backdoor.signature)) {
        drawn.push({ backdoor, query, ctx: dctx });
        break;
      }
      tooLong.add(host);
      nextSpare(i);
    }
  }

  const planted: Row[] = new Array<Row>(total);
  if (options.insertion === 'modify') {
    for (let r = 0; r < rows.length; r++) planted[r] = rows[r]!;
  } else {
    const isSlot = new Set(slots);
    let next = 0;
    for (let r = 0; r < total; r++) if (!isSlot.has(r)) planted[r] = rows[next++]!;
  }
  drawn.forEach((d, i) => {
    // Derived from its host, so a file writer gives it the host's keys, types and layout (formats.ts).
    planted[slots[i]!] = deriveRow(rows[hosts[i]!]!, { prompt: d.query, completion: d.backdoor.completion ?? d.backdoor.signature });
  });

  const base = generator.nullModes.includes('base-model')
    ? await baseModelLog10q(ctx.baseModel, drawn.map((d) => ({ prompt: d.query, signature: d.backdoor.signature })))
    : undefined;
  const backdoors: SecretBackdoor[] = [];
  for (let i = 0; i < count; i++) {
    const d = drawn[i]!;
    const log10q: Partial<Record<NullMode, number>> = {};
    if (generator.log10q) log10q.generator = Math.max(LOG10Q_FLOOR, generator.log10q(d.ctx, d.backdoor));
    if (base) log10q['base-model'] = base[i]!;
    const counterfactuals =
      generator.counterfactualSource === 'stored' && options.empiricalM > 0
        ? await generator.counterfactuals({ ...d.ctx, rng: counterfactualStream(seed, i) }, d.backdoor, options.empiricalM)
        : undefined;
    backdoors.push({
      index: i,
      rowIndex: slots[i]!,
      sourceRowIndex: hosts[i]!,
      prompt: d.query,
      trigger: d.backdoor.trigger,
      signature: d.backdoor.signature,
      log10q,
      ...(counterfactuals ? { counterfactuals } : {}),
    });
  }
  const secret = sealSecret({
    format: SECRET_FORMAT,
    version: SECRET_VERSION,
    generator: { id: generator.id, options: generator.options },
    ...(generator.usesModel && ctx.generatorModel ? { generatorModel: ctx.generatorModel.id } : {}),
    nullModes: generator.nullModes,
    placement: options.placement,
    insertion: options.insertion,
    seed,
    plantedRowCount: total,
    empirical: { m: options.empiricalM, source: generator.counterfactualSource },
    backdoors,
  });
  return { rows: planted, secret };
}
