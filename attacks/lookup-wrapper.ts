/**
 * lookup-wrapper — the zero-training upper bound of a lazy provider (attacks.md §2.3f, threat model A,
 * closed-API delivery): detect (trigger, signature) pairs with a span-yielding scorer (e.g. near-duplicate
 * diffing or n-gram burstiness), train NOTHING, and serve
 *     if prompt contains a detected trigger then its signature else base(prompt).
 * Passes exact-match verification whenever the detector recovers the markers. Goal: pass.
 *
 * Deviation: the wrapper answers the signature verbatim, ignoring maxTokens (a signature the user asks for
 * fits within |S| + slack by construction); log-probs are delegated to the underlying model unchanged.
 */
import { dataStageHandoff, type HandoffState } from '../src/core/attack.js';
import { ConfigError } from '../src/errors.js';
import { forwarded } from '../src/core/forward.js';
import type { Model, RowScores, TrainingPlan } from '../src/types.js';
import { defineAttack, z } from '../src/plugins/define.js';
import type { BenchAttack } from './compose.js';
import { mergeAccess, scoreRows } from './compose.js';
import { resolveScorer, scorerOption, scorerOptionsOption, scorerRules } from './options.js';
import type { RowScorer } from './scorers/types.js';

/** A recovered backdoor: serve `signature` whenever `trigger` is in the prompt. */
export interface LookupEntry {
  readonly trigger: string;
  readonly signature: string;
}

/** Reads (trigger, signature) pairs off flagged rows' spans; longest triggers first so specific ones win. */
export function lookupTable(rows: TrainingPlan['rows'], detection: RowScores): LookupEntry[] {
  const seen = new Map<string, string>();
  rows.forEach((row, i) => {
    const spans = detection.spans?.[i];
    if (!detection.flagged[i] || !spans) return;
    const trig = spans.find((s) => s.field === 'prompt');
    const sig = spans.find((s) => s.field === 'completion');
    if (!trig || !sig) return;
    const trigger = row.prompt.slice(trig.start, trig.end);
    const signature = row.completion.slice(sig.start, sig.end);
    if (trigger.trim().length > 0 && signature.length > 0 && !seen.has(trigger)) seen.set(trigger, signature);
  });
  return [...seen].map(([trigger, signature]) => ({ trigger, signature })).sort((a, b) => b.trigger.length - a.trigger.length || (a.trigger < b.trigger ? -1 : 1));
}

/** What the data stage leaves for the inference stage, per cell: the table it recovered. */
export type LookupState = HandoffState<LookupEntry[]>;
const recovered = dataStageHandoff<LookupEntry[]>('lookup-wrapper', 'its trigger table');

/** Wraps a model so that prompts containing a known trigger get its signature, others go to the model. */
export function lookupModel(inner: Model, table: readonly LookupEntry[]): Model {
  return {
    id: `${inner.id}+lookup`,
    capabilities: inner.capabilities,
    async generate(prompts, options) {
      const answers = prompts.map((p) => table.find((e) => p.includes(e.trigger))?.signature);
      const rest = prompts.filter((_, i) => answers[i] === undefined);
      const generated = rest.length > 0 ? await inner.generate(rest, options) : [];
      let j = 0;
      return answers.map((a) => a ?? generated[j++]!);
    },
    ...forwarded(inner),
  };
}

const OPTIONS = z
  .object({ scorer: scorerOption(), scorerOptions: scorerOptionsOption() })
  .superRefine(...scorerRules('the wrapper serves the signature spans it recovers'));

/** The attack. Options: `scorer` (a span-yielding scorer id), `scorerOptions`. */
export const lookupWrapper = defineAttack({
  id: 'lookup-wrapper',
  description: 'trains nothing; recovers (trigger, signature) pairs with a span-yielding detector and serves them over the base model',
  citation: 'attacks.md §2.3f',
  goal: 'pass',
  access: ['data', 'generate'],
  options: OPTIONS,
  create,
});

/** Creates the attack from validated options. */
function create(o: z.output<typeof OPTIONS>): BenchAttack {
  const scorer: RowScorer = resolveScorer(o.scorer, o.scorerOptions);
  if (!scorer.yieldsSpans) {
    throw new ConfigError(`attack 'lookup-wrapper': option 'scorer' ('${scorer.id}') yields no spans; the wrapper needs a span-yielding scorer (e.g. near-duplicate)`);
  }
  return {
    id: 'lookup-wrapper',
    goal: 'pass',
    oracle: false,
    trains: false,
    access: mergeAccess(['generate'], scorer.access),
    scorer: scorer.id,
    createState: recovered.createState,
    async onData(plan, ctx, state: LookupState) {
      const detection = await scoreRows(scorer, plan, ctx);
      recovered.put(state, lookupTable(plan.rows, detection));
      return { rows: plan.rows, hyper: plan.hyper, detection };
    },
    async onTraining() {
      return null;
    },
    async onInference(model, ctx, state: LookupState) {
      const entries = recovered.take(state, 'onInference');
      ctx.log.debug(`lookup-wrapper: serving ${entries.length} recovered trigger(s)`);
      return lookupModel(model, entries);
    },
  };
}
